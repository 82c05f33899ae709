/**
 * Whiteouts, the one owner of their names and forms (OCI image-spec layer.md; overlayfs):
 *
 *   in a layer tar   `.wh.<name>` hides <name> of the layers below; `.wh..wh..opq` in a
 *                    directory hides all its lower children; other `.wh..wh.` names are
 *                    AUFS metadata, skipped; `.wh.`, `.wh..`, `.wh...` are invalid
 *   in a snapshot    (overlay form) a 0:0 character device hides the name; a directory
 *                    with an overlay opaque attribute of `y` hides all lower children
 *
 * apply.ts reads the tar form, diff.ts writes it, rootfs.ts and overlay-view.ts make and
 * read the overlay form. Names are bytes.
 */
import type { BigIntStats, Stats } from 'node:fs';
import { getXattr, mknod, S_IFCHR, setXattr, SysError } from '../sys/libc.js';

export const WHITEOUT_PREFIX = Buffer.from('.wh.');
export const AUFS_META_PREFIX = Buffer.from('.wh..wh.');
export const OPAQUE_MARKER = Buffer.from('.wh..wh..opq');

/** `.wh.<base>`: the tar name that hides `base` (a last component) of the layers below. */
export function whiteoutName(base: Buffer): Buffer {
  return Buffer.concat([WHITEOUT_PREFIX, base]);
}

/** A last component that is a whiteout of some kind (only in layers; an ADD archive's are plain files). */
export function isWhiteoutName(base: Buffer): boolean {
  return base.subarray(0, WHITEOUT_PREFIX.length).equals(WHITEOUT_PREFIX);
}

export function isOpaqueMarker(base: Buffer): boolean {
  return base.equals(OPAQUE_MARKER);
}

/** What a whiteout name (isWhiteoutName) asks for. */
export type WhiteoutMeaning = { kind: 'opaque' } | { kind: 'aufs-meta' } | { kind: 'hide'; name: Buffer } | { kind: 'invalid' };

export function whiteoutMeaning(base: Buffer): WhiteoutMeaning {
  if (isOpaqueMarker(base)) return { kind: 'opaque' };
  if (base.subarray(0, AUFS_META_PREFIX.length).equals(AUFS_META_PREFIX)) return { kind: 'aufs-meta' };
  const name = base.subarray(WHITEOUT_PREFIX.length);
  if (name.length === 0 || name.equals(DOT) || name.equals(DOTDOT)) return { kind: 'invalid' };
  return { kind: 'hide', name };
}

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

/** Overlay opaque attributes: overlayfs reads either; this code writes the first. */
export const OPAQUE_XATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque'];

/** An overlay whiteout: a character device 0:0. */
export function isWhiteout(st: Stats | BigIntStats): boolean {
  return st.isCharacterDevice() && Number(st.rdev) === 0;
}

/** Make the overlay whiteout at `host` (nothing may be there). */
export function makeWhiteout(host: Buffer): void {
  mknod(host, S_IFCHR | 0o000, 0n);
}

/** The directory at `host` hides its lower children. */
export function isOpaque(host: Buffer): boolean {
  return OPAQUE_XATTRS.some((name) => getXattr(host, name)?.toString() === 'y');
}

/**
 * `trusted.overlay.opaque`, as overlayfs mounted by root reads it; where trusted
 * attributes cannot be set (no CAP_SYS_ADMIN: a container with docker's default
 * capabilities, where builds run in chroot isolation), `user.overlay.opaque`, which
 * isOpaque reads too.
 */
export function markOpaque(host: Buffer): void {
  try {
    setXattr(host, OPAQUE_XATTRS[0]!, Buffer.from('y'));
  } catch (err) {
    if (!(err instanceof SysError) || !['EPERM', 'ENOTSUP', 'EOPNOTSUPP'].includes(err.errno)) throw err;
    setXattr(host, OPAQUE_XATTRS[1]!, Buffer.from('y'));
  }
}
