/**
 * A store's overlay form (layer/whiteout.ts), decided when the store is opened: `user`
 * (user.overlay.opaque) when this process runs in a user namespace, where tsbuild is
 * rootless and overlayfs is mounted with `userxattr`, else `trusted`. Read from
 * /proc/self/uid_map: the initial user namespace maps all 2^32 ids onto themselves.
 */
import { readFileSync } from 'node:fs';
import type { OverlayXattrs } from '../layer/whiteout.js';

export function overlayFormOfThisProcess(): OverlayXattrs {
  let map: string;
  try {
    map = readFileSync('/proc/self/uid_map', 'utf8');
  } catch {
    return 'trusted';
  }
  const lines = map.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  return lines.length === 1 && lines[0] === '0 0 4294967295' ? 'trusted' : 'user';
}
