/**
 * Two values that differ, shown side by side for "cache miss: ..." messages. Short
 * values are shown whole. Long ones are cut around the place where they differ: the
 * common prefix is elided with `…` (a little of it kept as context), then the differing
 * part of each, so two 300-character environment entries that differ at the end read
 *
 *   "…_SECRET_TOKEN=abc", now "…_SECRET_TOKEN=xyz"
 *
 * instead of the same first 80 characters twice. Strings are cut inside their quotes.
 */
/** Longest text shown for one value (quotes and `…` included). */
export const SHOWN_MAX = 80;
/** Characters of the common prefix kept before the first difference. */
const CONTEXT = 16;

/** `render` turns a value that is not a string into text (the cache's canonical JSON). */
export function showDifference(before: unknown, now: unknown, render: (v: unknown) => string, max = SHOWN_MAX): [string, string] {
  if (typeof before === 'string' && typeof now === 'string') {
    const [a, b] = cutPair(before, now, max - 2);
    return [JSON.stringify(a), JSON.stringify(b)];
  }
  return cutPair(render(before), render(now), max);
}

/** Cut both texts to at most `max` characters around where they first differ. */
export function cutPair(a: string, b: string, max: number): [string, string] {
  if (a.length <= max && b.length <= max) return [a, b];
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  // Never start inside a surrogate pair.
  let start = Math.max(0, common - CONTEXT);
  if (start > 0 && isLowSurrogate(a.charCodeAt(start))) start--;
  return [cut(a, start, max), cut(b, start, max)];
}

function cut(text: string, start: number, max: number): string {
  if (start === 0 && text.length <= max) return text;
  const head = start > 0 ? '…' : '';
  const room = max - head.length;
  if (text.length - start <= room) return head + text.slice(start);
  let end = start + room - 1;
  if (isLowSurrogate(text.charCodeAt(end))) end--;
  return `${head}${text.slice(start, end)}…`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
