/**
 * Whiteouts, the one owner of their names and forms (OCI image-spec layer.md; overlayfs):
 *
 *   in a layer tar   `.wh.<name>` hides <name> of the layers below; `.wh..wh..opq` in a
 *                    directory hides all its lower children; other `.wh..wh.` names are
 *                    AUFS metadata, skipped; `.wh.`, `.wh..`, `.wh...` are invalid
 *   in a snapshot    (overlay form) a whiteout hides the name; a directory with an
 *                    overlay opaque attribute of `y` hides all lower children
 *
 * A store's overlay form (OverlayForm, decided once when it is opened: store/overlay-form.ts)
 * says which opaque attribute its snapshots carry and what a whiteout is there:
 *   `device`  a 0:0 character device, overlayfs's own whiteout;
 *   `xattr`   an empty regular file carrying `user.tsbuild.whiteout`, for a store where
 *             0:0 devices cannot be made: overlayfs refuses them (EPERM) on its own mounts,
 *             and a container's root filesystem is one. A 0:0 device is read as a whiteout
 *             in both forms. The marker is tsbuild's own rather than overlayfs's "xattr
 *             whiteout" (Linux 6.7: `*.overlay.whiteout` on the file, and `*.overlay.opaque`
 *             set to `x` on its directory): that form keeps its directory mark in the same
 *             attribute as the opaque mark, so a directory cannot be opaque and hold a whiteout
 *             at once, and its namespace would follow the opaque form (trusted.overlay.* cannot
 *             be set through another overlayfs before Linux 6.7). Nothing mounts overlayfs on
 *             such a store: it happens only where the sandbox cannot run (chroot isolation,
 *             whose executor reads both forms). Like `user.tsbuild.owner`, the marker never
 *             crosses into a layer and is never taken from one (meta.ts, diff.ts).
 *
 * apply.ts reads the tar form, diff.ts writes it, rootfs.ts and overlay-view.ts make and
 * read the overlay form. Names are bytes.
 */
import type { BigIntStats, Dirent, Stats } from 'node:fs';
import { closeSync, openSync } from 'node:fs';
import { getXattr, mknod, S_IFCHR, setXattr } from '../sys/libc.js';

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

/**
 * Which xattrs a snapshot's overlay form uses: `trusted.overlay.*` for overlayfs mounted
 * by root, `user.overlay.*` for overlayfs mounted with `userxattr` in a user namespace
 * (rootless), where trusted.* can be neither set nor read. A store's setting, decided
 * when it is opened (store/overlay-form.ts): every snapshot of a store has one form.
 */
export type OverlayXattrs = 'trusted' | 'user';

export const OPAQUE_XATTRS: Record<OverlayXattrs, string> = { trusted: 'trusted.overlay.opaque', user: 'user.overlay.opaque' };

/** What a whiteout is in a store's snapshots (see the top of the file). */
export type WhiteoutForm = 'device' | 'xattr';

/** A store's overlay form: the opaque attribute's namespace and the whiteout's form. */
export interface OverlayForm {
  readonly opaque: OverlayXattrs;
  readonly whiteout: WhiteoutForm;
}

/** The form of a store opened as root on an ordinary filesystem. */
export const DEVICE_FORM: OverlayForm = { opaque: 'trusted', whiteout: 'device' };

/** The `xattr` form's marker on an empty regular file. */
export const WHITEOUT_XATTR = 'user.tsbuild.whiteout';

/**
 * Is the entry at `host`, whose lstat is `st`, a whiteout? A 0:0 character device always
 * is; in the `xattr` form, so is an empty regular file carrying the marker.
 */
export function isWhiteout(st: Stats | BigIntStats, host?: Buffer, form: WhiteoutForm = 'device'): boolean {
  if (st.isCharacterDevice()) return Number(st.rdev) === 0;
  return form === 'xattr' && host !== undefined && st.isFile() && Number(st.size) === 0 && getXattr(host, WHITEOUT_XATTR) !== undefined;
}

/** Can a directory entry of this type be a whiteout in `form` (so it needs a closer look)? */
export function mayBeWhiteout(d: Dirent<Buffer>, form: WhiteoutForm = 'device'): boolean {
  return d.isCharacterDevice() || (form === 'xattr' && d.isFile());
}

/** Make a whiteout at `host` (nothing may be there), in `form`. */
export function makeWhiteout(host: Buffer, form: WhiteoutForm = 'device'): void {
  if (form === 'device') {
    mknod(host, S_IFCHR | 0o000, 0n);
    return;
  }
  closeSync(openSync(host, 'wx', 0o000));
  setXattr(host, WHITEOUT_XATTR, Buffer.from('y'));
}

/** The directory at `host` hides its lower children. */
export function isOpaque(host: Buffer, form: OverlayXattrs = 'trusted'): boolean {
  return getXattr(host, OPAQUE_XATTRS[form])?.toString() === 'y';
}

export function markOpaque(host: Buffer, form: OverlayXattrs = 'trusted'): void {
  setXattr(host, OPAQUE_XATTRS[form], Buffer.from('y'));
}
