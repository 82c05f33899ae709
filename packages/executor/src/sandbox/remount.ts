/**
 * Mount flags for kernels without mount_setattr(2) (before Linux 5.12): once a mount is
 * attached, it (and with `recursive` every mount below it) is remounted with
 * MS_REMOUNT|MS_BIND and its own flags, changed as asked. Atime flags are kept (a bind
 * remount that names none keeps them). The mounts are read from the sandbox init's
 * mountinfo, whose paths are relative to the sandbox's root: after pivot_root the
 * worker thread has no PID in the sandbox's /proc, so /proc/self is not there for it.
 */
import { readFileSync } from 'node:fs';
import { mount, MOUNT_ATTR, MS } from '../libc.js';
import { SetupError } from './setup-error.js';

const A = MOUNT_ATTR;

/** MOUNT_ATTR_* bit, MS_* bit, mountinfo option. */
const FLAGS: Array<[attr: number, ms: number, option: string]> = [
  [A.RDONLY, MS.RDONLY, 'ro'],
  [A.NOSUID, MS.NOSUID, 'nosuid'],
  [A.NODEV, MS.NODEV, 'nodev'],
  [A.NOEXEC, MS.NOEXEC, 'noexec'],
];

interface MountEntry { mountPoint: string; options: Set<string> }

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const f = line.split(' ');
    return { mountPoint: unescape(f[4]!), options: new Set(f[5]!.split(',')) };
  });
}

/** The MS_* flags for a bind remount: the mount's own, with `set` added and `clear` removed (MOUNT_ATTR_* bits). */
export function remountFlags(options: Set<string>, attrs: { set?: number; clear?: number }): number {
  let flags = MS.REMOUNT | MS.BIND;
  for (const [attr, ms, option] of FLAGS) {
    const on = (options.has(option) || ((attrs.set ?? 0) & attr) !== 0) && ((attrs.clear ?? 0) & attr) === 0;
    if (on) flags |= ms;
  }
  return flags;
}

/** Change the flags of the mount at `target` (an absolute path in the root), and of the mounts below it with `recursive`. */
export function remountTree(target: string, attrs: { set?: number; clear?: number }, opts: { recursive?: boolean; mountinfo?: string } = {}): void {
  const entries = parseMountinfo(opts.mountinfo ?? readFileSync('/proc/1/mountinfo', 'utf8'));
  const top = new Map<string, MountEntry>();
  for (const e of entries) top.set(e.mountPoint, e); // the last mount on a path is the one it reaches
  if (!top.has(target)) throw new SetupError(`remounting ${target}: it is not a mount point`);
  const below = target === '/' ? '/' : `${target}/`;
  // In mountinfo's order, so a mount is remounted before the mounts on top of it.
  for (const e of entries) {
    const mine = e.mountPoint === target || (opts.recursive === true && e.mountPoint.startsWith(below));
    if (mine && top.get(e.mountPoint) === e) mount(null, e.mountPoint, null, remountFlags(e.options, attrs));
  }
}
