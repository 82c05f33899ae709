/**
 * A private tmpfs holding the sandbox's /etc/hosts, /etc/resolv.conf and /etc/hostname,
 * plus `empty` and `emptydir`, the sources of the masked paths (an empty read-only file
 * reads empty and refuses writes). Never part of any layer.
 *
 * Lifecycle:
 *   filesMount()   before pivot_root: a detached tmpfs, written through its own mount fd;
 *   StagedFiles    after pivot_root: attached at /dev (every sandbox has that directory;
 *                  the real /dev is mounted over it later) with a read-only bind on top;
 *   take(name)     a read-only bind of one entry, as a detached mount to attach;
 *   unstage()      both mounts gone, the binds taken stay.
 *
 * Why staged: open_tree(OPEN_TREE_CLONE) clones a detached mount only since Linux 6.15
 * (before, EINVAL), so every bind is cloned from an attached one. The read-only bind on
 * top, rather than making the tmpfs's own mount read-only, because that can fail with
 * EBUSY: the fd table is shared with the whole process, so a posix_spawn on another
 * thread may hold a copy of a just-closed writable fd until its exec; the new bind has
 * no writers.
 */
import { writeSync } from 'node:fs';
import { AT, close, mkdirat, MNT_DETACH, mount, MOUNT_ATTR, MS, O, openat, openTree, OPEN_TREE, umount2 } from '../libc.js';
import { attachAtDir, newMount } from './mounts.js';
import type { TargetMaker } from './targets.js';

const A = MOUNT_ATTR;

/** The files tmpfs as a detached mount, written. */
export function filesMount(files: Record<string, string>): number {
  const fd = newMount('tmpfs', { mode: '0755', size: '1m' }, A.NOSUID | A.NODEV | A.NOEXEC);
  try {
    for (const [name, content] of Object.entries({ ...files, empty: '' })) {
      const f = openat(fd, name, O.WRONLY | O.CREAT | O.EXCL, 0o644);
      try {
        writeSync(f, content);
      } finally {
        close(f);
      }
    }
    mkdirat(fd, 'emptydir', 0o755);
    return fd;
  } catch (err) {
    close(fd);
    throw err;
  }
}

const STAGE = '/dev';

export class StagedFiles {
  private staged = 0;

  /** Attach `filesFd` (and close it) at /dev of the pivoted root, read-only. */
  constructor(filesFd: number, targets: TargetMaker) {
    attachAtDir(filesFd, STAGE, targets);
    this.staged = 1;
    mount(STAGE, STAGE, null, MS.BIND);
    this.staged = 2;
    mount(null, STAGE, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
  }

  /** A detached read-only bind of one entry (hosts, resolv.conf, hostname, empty, emptydir). */
  take(name: string): number {
    return openTree(AT.FDCWD, `${STAGE}/${name}`, OPEN_TREE.CLONE);
  }

  unstage(): void {
    for (; this.staged > 0; this.staged--) umount2(STAGE, MNT_DETACH);
  }
}
