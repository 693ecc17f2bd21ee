import { describe, expect, it } from 'vitest';
import { parseHighlight, unescapeEntities } from './highlight';

describe('parseHighlight', () => {
  it('splits a snippet into marked and plain runs', () => {
    expect(parseHighlight('the <mark>deploy</mark> of <mark>api</mark>-7f9c')).toEqual([
      { text: 'the ', mark: false },
      { text: 'deploy', mark: true },
      { text: ' of ', mark: false },
      { text: 'api', mark: true },
      { text: '-7f9c', mark: false },
    ]);
  });

  it('undoes the server escaping into plain text', () => {
    expect(parseHighlight('a &lt;b&gt; &amp; &quot;c&quot; &#x27;d&#x27; &#39;e&#39; <mark>&lt;x&gt;</mark>')).toEqual([
      { text: 'a <b> & "c" \'d\' \'e\' ', mark: false },
      { text: '<x>', mark: true },
    ]);
  });

  it('keeps any other tag as its literal characters', () => {
    const runs = parseHighlight('<img src=x onerror=alert(1)><mark>hit</mark><script>alert(2)</script>');
    expect(runs).toEqual([
      { text: '<img src=x onerror=alert(1)>', mark: false },
      { text: 'hit', mark: true },
      { text: '<script>alert(2)</script>', mark: false },
    ]);
    // A mark tag with attributes is not a mark either.
    expect(parseHighlight('<mark onclick="x()">a</mark>')).toEqual([
      { text: '<mark onclick="x()">a', mark: false },
    ]);
  });

  it('survives unbalanced marks and odd case', () => {
    expect(parseHighlight('</mark>a<MARK>b')).toEqual([
      { text: 'a', mark: false },
      { text: 'b', mark: true },
    ]);
    expect(parseHighlight('')).toEqual([]);
  });
});

describe('unescapeEntities', () => {
  it('decodes numeric references and leaves unknown or invalid ones alone', () => {
    expect(unescapeEntities('&#233;&#x1F600;&bogus;&#0;&#xD800;&')).toBe('é😀&bogus;&#0;&#xD800;&');
  });
});
