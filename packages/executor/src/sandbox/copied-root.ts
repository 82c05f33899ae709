/**
 * The root of a rootless sandbox where overlayfs cannot be mounted in a user namespace
 * (Linux before 5.11, or a kernel that refuses it): the chroot mode's copying snapshotter
 * (chroot/snapshot.ts) copies the lower view into a directory before the run, the
 * sandbox binds that directory as its root, and afterwards what the command changed is
 * written into the upper dir in overlay form (chroot/changes.ts), so the builder's diff
 * sees what it sees after an overlay run. The mount points the sandbox had to create
 * (its stubs) are the run's own, never changes. Slower than overlayfs by a copy of the
 * whole root per run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { writeChanges } from '../chroot/changes.js';
import { materialise, type Baseline } from '../chroot/snapshot.js';
import { AT, close, MOUNT_ATTR, mountSetattr, moveMount, MOVE_MOUNT, openTree, OPEN_TREE } from '../libc.js';
import type { StubRecord } from '../protocol.js';
import { SetupError } from './setup-error.js';

export interface CopiedRoot {
  dir: string;
  baseline: Baseline;
}

/** Copy the merged view of `lowerdirs` (topmost first) into a new directory. */
export function copyRoot(lowerdirs: readonly string[]): CopiedRoot {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-root-'));
  try {
    return { dir, baseline: materialise(lowerdirs, dir) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Bind the copied root onto the mount point (worker thread, in the sandbox's mount namespace), `nodev` where mount_setattr can say so. */
export function bindCopiedRoot(dir: string, mountpoint: string, canSetattr: boolean): void {
  let fd: number;
  try {
    fd = openTree(AT.FDCWD, dir, OPEN_TREE.CLONE);
  } catch (err) {
    throw new SetupError(`binding the copied root ${dir}`, err);
  }
  try {
    if (canSetattr) mountSetattr(fd, '', AT.EMPTY_PATH, { set: MOUNT_ATTR.NODEV });
    moveMount(fd, '', AT.FDCWD, mountpoint, MOVE_MOUNT.F_EMPTY_PATH);
  } finally {
    close(fd);
  }
}

/** After the run: the command's changes into `upperdir`, stubs left out (the caller removes the copy). */
export function finishCopiedRoot(root: CopiedRoot, lowerdirs: readonly string[], upperdir: string, stubs: readonly StubRecord[]): void {
  const rel = (p: string) => posix.relative('/', p);
  const paths = new Set(stubs.map((s) => rel(s.path)));
  const created = new Set(stubs.filter((s) => s.kind === 'dir').map((s) => rel(s.path)));
  writeChanges(root.dir, lowerdirs, upperdir, root.baseline, { paths, created });
}
