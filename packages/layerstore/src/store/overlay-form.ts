/**
 * A store's overlay form (layer/whiteout.ts), decided when the store is opened:
 * `trusted` (trusted.overlay.opaque, as overlayfs mounted by root reads it) where this
 * process may set trusted.* attributes: in the initial user namespace with CAP_SYS_ADMIN.
 * Else `user` (user.overlay.opaque): rootless tsbuild, root of its own user namespace,
 * where overlayfs is mounted with `userxattr`; and root without CAP_SYS_ADMIN (a container
 * with docker's default capabilities, building in chroot isolation), where the kernel
 * refuses trusted.* attributes.
 *
 * Its whiteout form (`device` or `xattr`, layer/whiteout.ts) is decided by trying: a 0:0
 * character device is made in the store's tmp/ and removed. Where the kernel refuses it
 * (overlayfs refuses them on its own mounts, and a store on a container's root filesystem
 * is on one), the store records deletions as marked empty files. Test switch:
 * TSBUILD_STORE_WHITEOUTS=device|xattr sets the form without trying (a suite runs in the
 * `xattr` form on any filesystem this way).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LayerstoreError } from '../errors.js';
import { makeWhiteout, type OverlayXattrs, type WhiteoutForm } from '../layer/whiteout.js';
import { SysError } from '../sys/libc.js';
import { inInitialUserNamespace } from '../sys/userns.js';

export const WHITEOUTS_ENV = 'TSBUILD_STORE_WHITEOUTS';

const CAP_SYS_ADMIN = 21n;

function hasSysAdmin(): boolean {
  try {
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return eff !== undefined && ((BigInt(`0x${eff}`) >> CAP_SYS_ADMIN) & 1n) === 1n;
  } catch {
    return true; // no /proc: nothing says otherwise
  }
}

export function overlayFormOfThisProcess(): OverlayXattrs {
  return inInitialUserNamespace() && hasSysAdmin() ? 'trusted' : 'user';
}

/** What the kernel answers to making a 0:0 device: the refusals that mean "not here". */
const REFUSED = ['EPERM', 'EACCES', 'EOPNOTSUPP', 'ENOTSUP', 'EINVAL'];

/** The whiteout form of a store whose scratch directory is `tmpDir` (which must exist). */
export function whiteoutFormIn(tmpDir: string, env: NodeJS.ProcessEnv = process.env): WhiteoutForm {
  const forced = env[WHITEOUTS_ENV];
  if (forced !== undefined && forced !== '') {
    if (forced === 'device' || forced === 'xattr') return forced;
    throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${WHITEOUTS_ENV}: unknown whiteout form ${JSON.stringify(forced)} (known: device, xattr)`);
  }
  const probe = join(tmpDir, `.tmp-${process.pid}-whiteout-probe`);
  rmSync(probe, { force: true });
  try {
    makeWhiteout(Buffer.from(probe), 'device');
  } catch (err) {
    if (err instanceof SysError && REFUSED.includes(err.errno)) return 'xattr';
    throw err;
  }
  rmSync(probe, { force: true });
  return 'device';
}
