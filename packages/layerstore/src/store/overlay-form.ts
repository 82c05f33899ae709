/**
 * A store's overlay form (layer/whiteout.ts), decided when the store is opened:
 * `trusted` (trusted.overlay.opaque, as overlayfs mounted by root reads it) where this
 * process may set trusted.* attributes: in the initial user namespace with CAP_SYS_ADMIN.
 * Else `user` (user.overlay.opaque): rootless tsbuild, root of its own user namespace,
 * where overlayfs is mounted with `userxattr`; and root without CAP_SYS_ADMIN (a container
 * with docker's default capabilities, building in chroot isolation), where the kernel
 * refuses trusted.* attributes.
 */
import { readFileSync } from 'node:fs';
import type { OverlayXattrs } from '../layer/whiteout.js';
import { inInitialUserNamespace } from '../sys/userns.js';

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
