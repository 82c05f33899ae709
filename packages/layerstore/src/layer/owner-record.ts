/**
 * Owners a user namespace cannot give. Rootless tsbuild without subordinate ids maps one
 * id (0 inside, the user outside), so chown to any other id fails with EINVAL (the id has
 * no mapping). Like containers/storage with ignore_chown_errors, the entry then keeps
 * the owner it has and the intended one is recorded in the xattr `user.tsbuild.owner`
 * (`UID:GID`), which copy-up carries (meta.ts, and overlayfs itself in a RUN step) and
 * the diff reads back (diff.ts), so layers keep their owners. Inside the sandbox the file
 * shows as owned by 0. The attribute is the store's own: never taken from an archive and
 * never written into a layer. user.* attributes cannot be set on symlinks and special
 * files; their recorded owner is lost (they come out owned by 0).
 *
 * Only EINVAL triggers it, which lchown returns for an id unmapped in the caller's user
 * namespace and never in the initial one, so a root store never records anything.
 */
import { lchownSync } from 'node:fs';
import { getXattr, setXattr } from '../sys/libc.js';

export const OWNER_XATTR = 'user.tsbuild.owner';

export function readOwnerRecord(host: Buffer): { uid: number; gid: number } | undefined {
  let v: string | undefined;
  try {
    v = getXattr(host, OWNER_XATTR)?.toString();
  } catch {
    return undefined; // a file type that takes no user.* attributes
  }
  const m = v === undefined ? null : /^(\d+):(\d+)$/.exec(v);
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : undefined;
}

/** lchown, or where the ids are not mapped here, the owner recorded instead. */
export function chownOrRecord(host: Buffer, uid: number, gid: number): void {
  try {
    lchownSync(host, uid, gid);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  }
  try {
    setXattr(host, OWNER_XATTR, Buffer.from(`${uid}:${gid}`));
  } catch {
    /* a symlink or a special file: see above */
  }
}
