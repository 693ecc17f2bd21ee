/**
 * The first GETs of a signed-in page load, started before the app's bundle has
 * loaded and run (main.tsx, the small entry, starts them and then imports the
 * app). The API client takes each answer once,
 * when it asks for the same URL within BOOT_WINDOW_MS; after that it asks again.
 */
import { PAGE_SIZE } from '../app/paging';
import { parseHash } from '../app/route';

/** An answer older than this is not handed out (it may be stale). */
export const BOOT_WINDOW_MS = 10_000;

const started = new Map<string, { answer: Promise<Response>; at: number }>();

/** The URLs the app asks for first on a page at `hash` (under `base`). */
export function bootUrls(hash: string, base = '/api/v1'): string[] {
  const urls = [`${base}/users/me`, `${base}/rooms`];
  const route = parseHash(hash);
  // A link to one message loads the page around it instead.
  if (route.roomId != null && route.messageId == null) {
    urls.push(`${base}/rooms/${route.roomId}/messages?limit=${PAGE_SIZE}`);
  }
  return urls;
}

/** Ask for the boot URLs now (only when a sign-in cookie says it is worth it). */
export function startPrefetch(
  hash: string,
  signedIn: boolean,
  doFetch: typeof fetch = (...a) => fetch(...a),
  now: () => number = () => performance.now(),
): void {
  if (!signedIn) return;
  for (const url of bootUrls(hash)) {
    const answer = doFetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    answer.catch(() => undefined); // the client asks again if it is taken and failed
    started.set(url, { answer, at: now() });
  }
}

/** Forget every answer not taken yet (they were asked for as someone no longer signed in). */
export function dropPrefetched(): void {
  started.clear();
}

/** The answer started for this URL, once, while it is fresh; else undefined. */
export function takePrefetched(url: string, now: () => number = () => performance.now()): Promise<Response> | undefined {
  const hit = started.get(url);
  if (!hit) return undefined;
  started.delete(url);
  return now() - hit.at <= BOOT_WINDOW_MS ? hit.answer : undefined;
}
