/**
 * Build-cache keys from data: the canonical JSON of a step's inputs
 * (objects with sorted keys, after variable expansion, with content checksums in place
 * of file trees), framed with the cache format and the parent's key, so the same inputs
 * over the same parent give the same key in any build, and nothing else does.
 */
import { createHash } from 'node:crypto';
import type { Digest } from '@tsbuild/layerstore';
import { showDifference } from './show-difference.js';

/** Bump when what a step produces for the same inputs changes (layer format, semantics). */
export const CACHE_FORMAT = 'tsbuild-cache/1';

export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return JSON.stringify(value);
  if (Buffer.isBuffer(value)) return JSON.stringify(`hex:${value.toString('hex')}`);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value instanceof Map) return canonicalJson(Object.fromEntries([...value].map(([k, v]) => [String(k), v])));
  if (value instanceof Set) return canonicalJson([...value].map(canonicalJson).sort());
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  // A bug, never a user's failure: keys are made from parsed instructions and JSON configs.
  throw new TypeError(`cannot put a ${typeof value} in a cache key`);
}

/** The key of a step: its inputs over its parent's key. */
export function cacheKey(parent: string, step: Record<string, unknown>): Digest {
  return `sha256:${createHash('sha256').update(`${CACHE_FORMAT}\n${parent}\n${canonicalJson(step)}`).digest('hex')}`;
}

/** The first input that differs between two input sets, for "cache miss: ..." messages. */
export function firstDifference(before: Record<string, unknown>, now: Record<string, unknown>, path = ''): string | undefined {
  for (const k of [...new Set([...Object.keys(before), ...Object.keys(now)])].sort()) {
    const a = before[k];
    const b = now[k];
    if (canonicalJson(a) === canonicalJson(b)) continue;
    if (Array.isArray(a) && Array.isArray(b)) {
      const i = a.findIndex((x, j) => canonicalJson(x) !== canonicalJson(b[j]));
      const at = i === -1 ? a.length : i;
      if (at < b.length || at < a.length) return `${path}${k}[${at}] ${wasNow(a[at], b[at])}`;
    }
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      const inner = firstDifference(a as Record<string, unknown>, b as Record<string, unknown>, `${path}${k}.`);
      if (inner) return inner;
    }
    return `${path}${k} ${wasNow(a, b)}`;
  }
  return undefined;
}

function wasNow(before: unknown, now: unknown): string {
  const [a, b] = showDifference(before, now, canonicalJson);
  return `was ${a}, now ${b}`;
}
