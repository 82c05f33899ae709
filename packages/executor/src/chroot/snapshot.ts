/**
 * The copying snapshotter of the chroot mode: the merged view of overlay lower
 * directories (topmost first, whiteouts and opaque directories honoured) written out as
 * one plain directory tree, with owners, modes, nanosecond times, extended attributes,
 * device nodes, FIFOs and symlinks (copied as links, never followed).
 *
 * Hardlinks of the layers are copied as separate files, on purpose: overlayfs as docker
 * and the sandbox mount it (no `index`) breaks a hardlink when one of its names is
 * written (only that name is copied up), so `echo x >> /a` leaves the other name of /a
 * as it was, and removing one name leaves the other alone. The result must be theirs.
 * Hardlinks the command makes are kept (changes.ts).
 *
 * File contents go kernel to kernel: a reflink where the filesystem shares
 * extents (btrfs, XFS), else copy_file_range (libuv's copyfile). Sockets are skipped,
 * as a layer's diff skips them.
 *
 * It returns the baseline the change computation (changes.ts) starts from: for each
 * path, the inode, link count and ctime of its copy. A path whose copy still has them
 * after the run was not touched (every write, chmod, chown, xattr change or new link
 * moves ctime, which no one can set), so it is not read again.
 */
import type { BigIntStats } from 'node:fs';
import { constants as fsc, copyFileSync, linkSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { mknodAt } from '../libc.js';
import { copyMeta, copyTimes } from './meta.js';
import { child, mergedChildren } from './overlay-form.js';

export interface Stamp {
  ino: bigint;
  /** Birth time (statx), where the filesystem keeps one, else 0: an inode number can be reused at once, a birth time cannot. */
  birthtimeNs: bigint;
  nlink: bigint;
  ctimeNs: bigint;
}

/** Path relative to the root (latin1, no leading slash) -> its copy's stamp. */
export type Baseline = Map<string, Stamp>;

const S_IFMT = 0o170000n;


export function stamp(st: BigIntStats): Stamp {
  return { ino: st.ino, birthtimeNs: st.birthtimeNs, nlink: st.nlink, ctimeNs: st.ctimeNs };
}

/**
 * Write the merged view of `lowerdirs` into `dest`, an existing empty directory (which
 * takes the metadata of the view's root). Returns the baseline of every copied path.
 * `stop` is called before each directory and may throw to end the copy.
 */
export function materialise(lowerdirs: readonly string[], dest: string, stop: () => void = () => {}): Baseline {
  const baseline: Baseline = new Map();
  const root = Buffer.from(dest);
  const dirs = lowerdirs.map((d) => Buffer.from(d));

  const copyDir = (from: readonly Buffer[], to: Buffer, rel: string) => {
    stop();
    for (const [key, e] of mergedChildren(from)) {
      const target = child(to, Buffer.from(key, 'latin1'));
      const r = rel ? `${rel}/${key}` : key;
      if (!copyEntry(e.host, e.st, target)) continue;
      if (e.st.isDirectory()) {
        copyDir(e.dirs, target, r);
        copyTimes(target, e.st);
      }
      baseline.set(r, stamp(lstatSync(target, { bigint: true })));
    }
  };
  if (dirs.length > 0) {
    copyDir(dirs, root, '');
    const st = lstatSync(dirs[0]!, { bigint: true });
    copyMeta(dirs[0]!, root, st);
  }
  return baseline;
}

/**
 * Copy one entry (a directory without its children, whose times the caller sets once
 * they are in). False when it is not copied (a socket). `links`, when given, maps a source inode with
 * several names to its first copy, which later names link to.
 */
export function copyEntry(from: Buffer, st: BigIntStats, to: Buffer, links?: Map<string, Buffer>): boolean {
  if (st.isDirectory()) {
    mkdirSync(to, { mode: 0o700 });
    copyMeta(from, to, st, { times: false });
    return true;
  }
  if (st.isFile()) {
    const id = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1n ? links?.get(id) : undefined;
    if (first) {
      linkSync(first, to);
      return true;
    }
    copyFileSync(from, to, fsc.COPYFILE_FICLONE);
    if (st.nlink > 1n) links?.set(id, to);
  } else if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(from, { encoding: 'buffer' }), to);
  } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
    mknodAt(to, Number((st.mode & S_IFMT) | 0o600n), st.rdev);
  } else {
    return false;
  }
  copyMeta(from, to, st);
  return true;
}
