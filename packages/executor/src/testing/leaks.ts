/**
 * "Nothing of ours is left on the host": the host's mount table and process tree, checked
 * against a snapshot taken before the tests.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Filesystems only a sandbox mounts (overlay and tmpfs are made by other tests too). */
const SANDBOX_FS_TYPES = new Set(['proc', 'sysfs', 'devpts', 'mqueue']);
const OUR_PREFIXES = ['/run/tsbuild/', 'tsbuild-sandbox-', 'tsbuild-run-', 'tsbuild-exec-test-'];

export interface HostSnapshot { mounts: Set<string> }

function mountLines(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n');
}

export function snapshotHost(): HostSnapshot {
  return { mounts: new Set(mountLines().map(normalize)) };
}

/** A mountinfo line without the mount ids, which change when others remount. */
function normalize(line: string): string {
  return line.split(' ').slice(2).join(' ');
}

/** Mounts that appeared since the snapshot and are of a kind only a sandbox makes, or on our directories. */
export function newMounts(before: HostSnapshot, paths: readonly string[]): string[] {
  return mountLines().filter((l) => {
    if (before.mounts.has(normalize(l))) return false;
    const [, right = ''] = l.split(' - ');
    const target = l.split(' ')[4] ?? '';
    return SANDBOX_FS_TYPES.has(right.split(' ')[0] ?? '') || paths.some((p) => target.startsWith(p)) || OUR_PREFIXES.some((p) => l.includes(p));
  });
}

/** Live processes descended from this one (zombies excluded): `pid cmdline` lines. */
export function descendants(root = process.pid): string[] {
  const parent = new Map<number, number>();
  const state = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      state.set(Number(name), rest[0]!);
      parent.set(Number(name), Number(rest[1]));
    } catch {
      /* gone */
    }
  }
  const out: string[] = [];
  for (const [pid] of parent) {
    if (pid === root) continue;
    let p = parent.get(pid);
    while (p !== undefined && p !== root && p > 1) p = parent.get(p);
    if (p !== root || state.get(pid) === 'Z') continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      /* gone */
    }
    out.push(`${pid} ${cmd}`);
  }
  return out;
}

/** Zombie children of this process: sandboxes whose init or command nobody reaped. */
export function zombies(root = process.pid): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z' && Number(rest[1]) === root) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The bound of every wait for a process to start or end: far above what that takes on a loaded machine; a wait ends as soon as its condition holds. */
export const SLOW = 120_000;

/** Poll `cond` until it holds (true) or `ms` have passed (its last answer). */
export async function waitFor(cond: () => boolean, ms: number = SLOW): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

/** Host processes whose command line (NUL-separated, as /proc shows it) `match` accepts. */
export function processesMatching(match: (cmdline: string) => boolean): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return match(readFileSync(`/proc/${n}/cmdline`, 'latin1'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** A matcher for a command line that is exactly `args`. */
export const exactly = (...args: string[]) => (cmdline: string) => cmdline === `${args.join('\0')}\0`;
