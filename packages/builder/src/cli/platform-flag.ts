/** `--platform` of `build` and `pull`. */
import { formatPlatform, hostPlatform, isHostPlatform, parsePlatform as parseOnePlatform, type Platform } from '@tsbuild/layerstore';
import { UsageError } from '../errors.js';

/**
 * `--platform OS/ARCH[/VARIANT]`, normalised like docker's (layerstore's parsePlatform).
 * With `hostOnly` (builds): a list or a platform other than this machine's is an error
 * naming the flag, until multi-platform and cross builds exist.
 */
export function parsePlatform(spec: string | undefined, opts: { hostOnly?: boolean } = {}): Platform {
  if (spec === undefined) return hostPlatform();
  if (spec.includes(',')) {
    throw new UsageError(`--platform ${spec}: ${opts.hostOnly ? 'multi-platform builds are not supported yet; build one platform at a time' : 'give one platform'}`);
  }
  const parsed = parseOnePlatform(spec);
  if ('invalid' in parsed) throw new UsageError(`--platform ${spec}: ${parsed.invalid}`);
  if (!opts.hostOnly) return parsed.platform;
  if (!isHostPlatform(parsed.platform)) throw new UsageError(`--platform ${spec}: cross-platform builds are not supported yet; this machine builds ${formatPlatform(hostPlatform())}`);
  return hostPlatform();
}
