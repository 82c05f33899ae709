/**
 * Copying one entry's metadata, in the order that keeps all of it: owner, then mode
 * (chown clears setuid and security.capability), extended attributes other than
 * overlayfs's own, then times to the nanosecond (last: nothing after may touch the entry).
 */
import type { BigIntStats } from 'node:fs';
import { chmodSync, lchownSync } from 'node:fs';
import { getXattr, listXattrs, setTimesNs, setXattr } from '../libc.js';
import { isOverlayXattr } from './overlay-form.js';

/** The xattrs of `path` that belong to its content (overlayfs's own left out), sorted by name. */
export function contentXattrs(path: Buffer): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const name of listXattrs(path).sort()) {
    if (isOverlayXattr(name)) continue;
    const v = getXattr(path, name);
    if (v !== undefined) out.push([name, v]);
  }
  return out;
}

export function copyMeta(from: Buffer, to: Buffer, st: BigIntStats, opts: { times?: boolean } = {}): void {
  lchownSync(to, Number(st.uid), Number(st.gid));
  if (!st.isSymbolicLink()) chmodSync(to, Number(st.mode & 0o7777n));
  for (const [name, value] of contentXattrs(from)) setXattr(to, name, value);
  if (opts.times ?? true) setTimesNs(to, st.atimeNs, st.mtimeNs);
}

/** Apply the times of `st` (a directory's, after its entries were written). */
export function copyTimes(to: Buffer, st: BigIntStats): void {
  setTimesNs(to, st.atimeNs, st.mtimeNs);
}
