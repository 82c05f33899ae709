/**
 * Whether this process runs in a user namespace, and what ids it maps: read from
 * /proc/self/uid_map and gid_map, a fact of the process (the initial namespace maps all
 * 2^32 ids onto themselves), not a guess from the environment. The sandbox adapts to it
 * (sandbox/rootless.ts): overlayfs with `userxattr`, the host's device nodes bound
 * instead of made, sysfs bound when the network is the host's, no cgroups.
 */
import { readFileSync } from 'node:fs';

/** One line of an id map: ids `inside..inside+count-1` are `outside..` in the parent namespace. */
export interface IdRange { inside: number; outside: number; count: number }

export interface UserNamespace {
  uids: IdRange[];
  gids: IdRange[];
  /** Only one id is mapped (no subordinate ids): 0 inside is the user outside. */
  ownIdOnly: boolean;
  /** setgroups(2) is denied (written by whoever mapped the gids without newgidmap). */
  setgroupsDenied: boolean;
}

export function parseIdMap(text: string): IdRange[] {
  return text.split('\n').map((l) => l.trim().split(/\s+/).map(Number)).filter((f) => f.length === 3 && f.every(Number.isInteger))
    .map(([inside, outside, count]) => ({ inside: inside!, outside: outside!, count: count! }));
}

/** The identity map of the initial user namespace. */
function isInitial(uids: IdRange[]): boolean {
  return uids.length === 1 && uids[0]!.inside === 0 && uids[0]!.outside === 0 && uids[0]!.count === 4294967295;
}

let cached: UserNamespace | null | undefined;

/** The user namespace this process runs in, or null in the initial one. Read once. */
export function userNamespace(): UserNamespace | null {
  if (cached !== undefined) return cached;
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const uids = parseIdMap(read('/proc/self/uid_map'));
  if (uids.length === 0 || isInitial(uids)) return (cached = null);
  const gids = parseIdMap(read('/proc/self/gid_map'));
  const total = (m: IdRange[]) => m.reduce((n, r) => n + r.count, 0);
  return (cached = { uids, gids, ownIdOnly: total(uids) === 1, setgroupsDenied: read('/proc/self/setgroups').trim() === 'deny' });
}

/** Whether `id` (inside) is mapped by `ranges`. */
export function mapped(ranges: readonly IdRange[], id: number): boolean {
  return ranges.some((r) => id >= r.inside && id < r.inside + r.count);
}
