/**
 * The overlay form of a layer directory, as the layer store's snapshots and the builder's
 * diff read it (mirrored here: the executor imports no other package): a whiteout hides a
 * name of the layers below; a directory whose `trusted.overlay.opaque` or
 * `user.overlay.opaque` attribute is `y` hides all their children of that directory.
 * A whiteout has one of two forms, the store's (RootfsSpec.whiteouts): `device`, a 0:0
 * character device, or `xattr`, an empty regular file marked `user.tsbuild.whiteout`, for
 * a store where 0:0 devices cannot be made (on overlayfs, a container's root filesystem).
 * Both are read; the store's is written. Attributes under `trusted.overlay.` and
 * `user.overlay.`, and the marker, are never copied.
 */
import type { BigIntStats } from 'node:fs';
import { closeSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { getXattr, mknodAt, setXattr } from '../libc.js';
import { ExecutorError, SyscallError } from '../errors.js';

export const OPAQUE_XATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque'] as const;
export const WHITEOUT_XATTR = 'user.tsbuild.whiteout';
const S_IFCHR = 0o020000;

export type WhiteoutForm = 'device' | 'xattr';

export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.') || name === WHITEOUT_XATTR;
}

/** A whiteout in either form: a 0:0 character device, or an empty regular file with the marker. */
export function isWhiteout(st: BigIntStats, path: Buffer): boolean {
  if (st.isCharacterDevice()) return st.rdev === 0n;
  return st.isFile() && st.size === 0n && getXattr(path, WHITEOUT_XATTR) !== undefined;
}

export function isOpaque(dir: Buffer): boolean {
  return OPAQUE_XATTRS.some((name) => getXattr(dir, name)?.toString() === 'y');
}

/**
 * A whiteout in `form`. `xattr`: an empty file with the marker. `device`: a 0:0 character
 * device: allowed to anyone since Linux 5.8, to CAP_MKNOD before; but never on overlayfs
 * itself (EPERM), where the store decides on the `xattr` form when it is opened.
 */
export function makeWhiteout(path: Buffer, form: WhiteoutForm = 'device'): void {
  if (form === 'xattr') {
    closeSync(openSync(path, 'wx', 0o000));
    setXattr(path, WHITEOUT_XATTR, Buffer.from('y'));
    return;
  }
  try {
    mknodAt(path, S_IFCHR, 0n);
  } catch (err) {
    if (!(err instanceof SyscallError) || err.errno !== 'EPERM') throw err;
    throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `cannot record a deletion at ${path.toString('latin1')}: mknod of a 0:0 device (an overlay whiteout) was refused (EPERM); overlayfs refuses them (a container's root filesystem is one): record deletions as marked files there (rootfs.whiteouts 'xattr', which the layer store chooses when it opens a store on such a filesystem)`, { cause: err });
  }
}

/**
 * Mark a directory opaque: `trusted.overlay.opaque` as overlayfs mounted by root reads it,
 * or, where trusted attributes cannot be set (no CAP_SYS_ADMIN, as in a container),
 * `user.overlay.opaque`, which the layer store reads too.
 */
export function markOpaque(dir: Buffer): void {
  try {
    setXattr(dir, OPAQUE_XATTRS[0], Buffer.from('y'));
  } catch (err) {
    if (!(err instanceof SyscallError) || !['EPERM', 'ENOTSUP', 'EOPNOTSUPP'].includes(err.errno)) throw err;
    setXattr(dir, OPAQUE_XATTRS[1], Buffer.from('y'));
  }
}

export const SLASH = Buffer.from('/');

export function child(dir: Buffer, name: Buffer): Buffer {
  return Buffer.concat([dir, SLASH, name]);
}

/** One name of the merged view of a directory. */
export interface MergedEntry {
  /** Where the topmost layer that shows it has it. */
  host: Buffer;
  st: BigIntStats;
  /** For a directory: the directories of the layers (top first) that merge at this name. */
  dirs: Buffer[];
}

/**
 * The merged children of one directory, given the directories (topmost layer first)
 * that show at its path: the first layer to have a name decides it; a whiteout hides it
 * from the layers below; a directory merges with the directories below it down to the
 * first opaque one, non-directory or whiteout. Names are latin1 strings (any bytes survive).
 */
export function mergedChildren(dirs: readonly Buffer[]): Map<string, MergedEntry> {
  const out = new Map<string, MergedEntry>();
  const hidden = new Set<string>();
  dirs.forEach((dir, i) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const key = name.toString('latin1');
      if (out.has(key) || hidden.has(key)) continue;
      const host = child(dir, name);
      const st = lstatSync(host, { bigint: true });
      if (isWhiteout(st, host)) {
        hidden.add(key);
        continue;
      }
      out.set(key, { host, st, dirs: st.isDirectory() ? mergingDirs(host, dirs.slice(i + 1), name) : [] });
    }
  });
  return out;
}

function mergingDirs(top: Buffer, below: readonly Buffer[], name: Buffer): Buffer[] {
  const out = [top];
  if (isOpaque(top)) return out;
  for (const dir of below) {
    const host = child(dir, name);
    let st: BigIntStats;
    try {
      st = lstatSync(host, { bigint: true });
    } catch {
      continue;
    }
    if (!st.isDirectory()) break;
    out.push(host);
    if (isOpaque(host)) break;
  }
  return out;
}
