/**
 * The user's subordinate ids from /etc/subuid and /etc/subgid (shadow's format:
 * `USER-OR-UID:START:COUNT` per line, several lines per user allowed), and the id maps
 * tsbuild writes with them: 0 is the user's own id (as podman maps it, so what root
 * makes in a step belongs to the user outside) and 1..N the subordinate range.
 */
import { readFileSync } from 'node:fs';
import type { IdRange } from './namespace.js';

export interface SubRange { start: number; count: number }

/** The ranges of the user (by name or by uid) in the text of /etc/subuid or /etc/subgid. */
export function subordinateRanges(text: string, user: { name: string; id: number }): SubRange[] {
  const out: SubRange[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length !== 3 || line.trim().startsWith('#')) continue;
    if (f[0] !== user.name && f[0] !== String(user.id)) continue;
    const start = Number(f[1]);
    const count = Number(f[2]);
    if (Number.isInteger(start) && Number.isInteger(count) && count > 0) out.push({ start, count });
  }
  return out;
}

/** The file's text, or '' when it does not exist. */
export function readSubidFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The map: 0 -> own id, 1.. -> the ranges one after another. */
export function idMap(own: number, ranges: readonly SubRange[]): IdRange[] {
  const out: IdRange[] = [{ inside: 0, outside: own, count: 1 }];
  let next = 1;
  for (const r of ranges) {
    out.push({ inside: next, outside: r.start, count: r.count });
    next += r.count;
  }
  return out;
}

export const total = (ranges: readonly SubRange[]) => ranges.reduce((n, r) => n + r.count, 0);
