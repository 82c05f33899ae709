/**
 * A store's overlay form (layer/whiteout.ts), decided when the store is opened: `user`
 * (user.overlay.opaque) when this process runs in a user namespace, where tsbuild is
 * rootless and overlayfs is mounted with `userxattr`, else `trusted`.
 */
import type { OverlayXattrs } from '../layer/whiteout.js';
import { inInitialUserNamespace } from '../sys/userns.js';

export function overlayFormOfThisProcess(): OverlayXattrs {
  return inInitialUserNamespace() ? 'trusted' : 'user';
}
