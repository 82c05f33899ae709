/** `--platform` of `build` and `pull`. */
import type { Platform } from '@tsbuild/layerstore';
import { BuildError, UsageError } from '../errors.js';
import { formatPlatform, hostPlatform, isHostPlatform, parsePlatform as parseOnePlatform } from '../plan/platform.js';

/**
 * `--platform OS/ARCH[/VARIANT]`, normalised like docker's (plan/platform.ts). With
 * `hostOnly` (builds): a list or a platform other than this machine's is an error
 * naming the flag, until multi-platform and cross builds exist.
 */
export function parsePlatform(spec: string | undefined, opts: { hostOnly?: boolean } = {}): Platform {
  if (spec === undefined) return hostPlatform();
  if (spec.includes(',')) {
    throw new UsageError(`--platform ${spec}: ${opts.hostOnly ? 'multi-platform builds are not supported yet; build one platform at a time' : 'give one platform'}`);
  }
  let p: Platform;
  try {
    p = parseOnePlatform(spec);
  } catch (err) {
    if (err instanceof BuildError) throw new UsageError(`--platform ${spec}: ${err.message}`);
    throw err;
  }
  if (!opts.hostOnly) return p;
  if (!isHostPlatform(p)) throw new UsageError(`--platform ${spec}: cross-platform builds are not supported yet; this machine builds ${formatPlatform(hostPlatform())}`);
  return hostPlatform();
}
