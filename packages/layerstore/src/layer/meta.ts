/**
 * The one metadata setter of layerstore, in the one order that keeps everything: owner,
 * then mode (chown clears setuid), extended attributes other than overlayfs's own, then
 * times (last, since nothing after them may touch the entry). An owner a user namespace
 * cannot give is recorded instead (owner-record.ts). A tar entry (apply.ts)
 * gives its header's; copy-up (rootfs.ts) and COPY (copy-tree.ts) copy a file's, COPY
 * with new owners and a mode if asked and without SELinux labels.
 */
import type { Stats } from 'node:fs';
import { chmodSync, lutimesSync } from 'node:fs';
import { getXattr, listXattrs, setXattr, SysError } from '../sys/libc.js';
import { isOverlayXattr } from './overlay-view.js';
import { chownOrRecord, OWNER_XATTR, readOwnerRecord } from './owner-record.js';

export interface Meta {
  uid: number;
  gid: number;
  /** Permission bits (with setuid, setgid, sticky); undefined for a symlink, which has none. */
  mode: number | undefined;
  xattrs: Iterable<readonly [string, Buffer]>;
  /** Access and modification times; undefined when the caller sets them later (a directory, after its entries). */
  times: { atime: number | Date; mtime: number | Date } | undefined;
}

export interface SetMetaOptions {
  /** Told of each overlayfs attribute left out (they are never set). */
  onSkipped?: (name: string) => void;
  /** Told instead of throwing when this filesystem or user cannot take an attribute (ENOTSUP, EPERM). */
  onUnsupported?: (name: string, errno: string) => void;
}

const UNSUPPORTED = ['ENOTSUP', 'EPERM', 'EOPNOTSUPP'];

export function setMeta(to: Buffer, m: Meta, opts: SetMetaOptions = {}): void {
  chownOrRecord(to, m.uid, m.gid);
  if (m.mode !== undefined) chmodSync(to, m.mode);
  for (const [name, value] of m.xattrs) {
    if (isOverlayXattr(name) || name === OWNER_XATTR) {
      opts.onSkipped?.(name);
      continue;
    }
    try {
      setXattr(to, name, value);
    } catch (err) {
      if (opts.onUnsupported && err instanceof SysError && UNSUPPORTED.includes(err.errno)) opts.onUnsupported(name, err.errno);
      else throw err;
    }
  }
  if (m.times) lutimesSync(to, m.times.atime, m.times.mtime);
}

export interface CopyMetaOptions {
  /** Owners to set instead of the source's. */
  owner?: { uid: number; gid: number };
  /** Permission bits to set instead of the source's (never applied to symlinks). */
  mode?: number;
  /** Extended attributes not to copy, besides overlayfs's own. */
  skipXattrs?: readonly string[];
}

/** Copy the metadata of `from` (whose lstat is `st`) onto `to`; a recorded owner (owner-record.ts) is its owner. */
export function copyMetaSync(from: Buffer, to: Buffer, st: Stats, opts: CopyMetaOptions = {}): void {
  const recorded = opts.owner ? undefined : readOwnerRecord(from);
  setMeta(to, {
    uid: opts.owner?.uid ?? recorded?.uid ?? st.uid,
    gid: opts.owner?.gid ?? recorded?.gid ?? st.gid,
    mode: st.isSymbolicLink() ? undefined : opts.mode ?? st.mode & 0o7777,
    xattrs: readXattrs(from, (name) => !isOverlayXattr(name) && !opts.skipXattrs?.includes(name)),
    times: { atime: st.atime, mtime: st.mtime },
  });
}

function* readXattrs(from: Buffer, wanted: (name: string) => boolean): Iterable<[string, Buffer]> {
  for (const name of listXattrs(from)) {
    if (!wanted(name)) continue;
    const v = getXattr(from, name);
    if (v) yield [name, v];
  }
}
