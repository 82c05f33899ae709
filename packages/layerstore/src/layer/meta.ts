/**
 * The one metadata copy of layerstore: owner, then mode (chown clears setuid), xattrs
 * other than overlayfs's own, then times. Copy-up (rootfs.ts) keeps everything; COPY
 * (copy-tree.ts) may give new owners and a mode and leaves SELinux labels behind.
 */
import type { Stats } from 'node:fs';
import { chmodSync, lchownSync, lutimesSync } from 'node:fs';
import { getXattr, listXattrs, setXattr } from '../sys/libc.js';
import { isOverlayXattr } from './overlay-view.js';

export interface MetaOptions {
  /** Owners to set instead of the source's. */
  owner?: { uid: number; gid: number };
  /** Permission bits to set instead of the source's (never applied to symlinks). */
  mode?: number;
  /** Extended attributes not to copy, besides overlayfs's own. */
  skipXattrs?: readonly string[];
}

export function copyMetaSync(from: Buffer, to: Buffer, st: Stats, opts: MetaOptions = {}): void {
  lchownSync(to, opts.owner?.uid ?? st.uid, opts.owner?.gid ?? st.gid);
  if (!st.isSymbolicLink()) chmodSync(to, opts.mode ?? st.mode & 0o7777);
  for (const name of listXattrs(from)) {
    if (isOverlayXattr(name) || opts.skipXattrs?.includes(name)) continue;
    const v = getXattr(from, name);
    if (v) setXattr(to, name, v);
  }
  lutimesSync(to, st.atime, st.mtime);
}

export async function copyMeta(from: Buffer, to: Buffer, st: Stats, opts: MetaOptions = {}): Promise<void> {
  copyMetaSync(from, to, st, opts);
}
