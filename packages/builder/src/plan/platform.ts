/**
 * The build's platform ARGs. Platforms themselves (parsing, normalising, comparing) are
 * layerstore's (image/platform.ts); builds are for this machine's platform only (no
 * emulation, no multi-platform images), so BUILD* is always the host.
 */
import { formatPlatform, hostPlatform, type Platform } from '@tsbuild/layerstore';

/** The automatic ARGs of a build for `target` on this machine (TARGETPLATFORM, BUILDARCH, ...). */
export function platformArgs(target: Platform): Map<string, string> {
  const out = new Map<string, string>();
  for (const [prefix, p] of [['TARGET', target], ['BUILD', hostPlatform()]] as const) {
    out.set(`${prefix}PLATFORM`, formatPlatform(p));
    out.set(`${prefix}OS`, p.os);
    out.set(`${prefix}ARCH`, p.architecture);
    out.set(`${prefix}VARIANT`, p.variant ?? '');
  }
  return out;
}
