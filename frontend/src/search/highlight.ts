/**
 * Search snippets: the server marks matched words with <mark> and escapes
 * everything else (API.md, Search). The client never hands the snippet to the
 * HTML parser: it splits it into text runs, marked or not, and React renders
 * each run as text. A tag other than <mark>/</mark> (a server bug, an
 * injection) therefore shows as its literal characters and cannot become HTML.
 */

export interface Run {
  text: string;
  mark: boolean;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Undo the server's escaping (&amp; &lt; &gt; &quot; &#x27; &#39; and other numeric references). */
export function unescapeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return whole;
      return String.fromCodePoint(code);
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

/** Split a snippet into text runs; only <mark>…</mark> (any case) is understood. */
export function parseHighlight(snippet: string): Run[] {
  const runs: Run[] = [];
  let depth = 0;
  const push = (raw: string) => {
    if (!raw) return;
    const text = unescapeEntities(raw);
    const mark = depth > 0;
    const last = runs[runs.length - 1];
    if (last && last.mark === mark) last.text += text;
    else runs.push({ text, mark });
  };
  const tag = /<(\/?)mark>/gi;
  let at = 0;
  for (let m = tag.exec(snippet); m; m = tag.exec(snippet)) {
    push(snippet.slice(at, m.index));
    depth = m[1] ? Math.max(0, depth - 1) : depth + 1;
    at = m.index + m[0].length;
  }
  push(snippet.slice(at));
  return runs;
}
