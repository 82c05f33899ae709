/**
 * A stage's platform must be the build's target (this machine's, until cross and
 * multi-platform builds exist), so that TARGETPLATFORM, TARGETARCH... always say what the
 * image config says:
 *
 *   FROM --platform=...   expanded with the global ARGs (`$BUILDPLATFORM`, `$TARGETPLATFORM`
 *                         are fine); any other platform is an error naming the line
 *   FROM <image>          a base image made for another platform is an error too (its RUN
 *                         steps could not run here); one that names none gets the target's
 */
import { formatPlatform, parsePlatform, platformOf, samePlatform, type ImageConfig, type Platform } from '@tsbuild/layerstore';
import { BuildError, type SourceLocation } from '../errors.js';
import type { Stage } from './stages.js';
import type { ShellLex } from '../dockerfile/shell-lex.js';

const NOT_YET = 'cross-platform and multi-platform builds are not supported yet';

/** Check `FROM --platform=` of a stage against the target. */
export function checkFromPlatform(stage: Stage, lex: ShellLex, lookup: (name: string) => string | undefined, target: Platform): void {
  const raw = stage.from.platform;
  if (raw === undefined) return;
  const location = stage.from.location;
  let spec: string;
  try {
    spec = lex.processWord(raw, lookup);
  } catch (err) {
    if (err instanceof BuildError) throw new BuildError(err.code, `FROM --platform=${raw}: ${err.message}`, { location, cause: err });
    throw err;
  }
  const parsed = parsePlatform(spec);
  if ('invalid' in parsed) throw new BuildError('TSBUILD_INVALID_ARGUMENT', `FROM --platform=${raw}: ${parsed.invalid}`, { location });
  if (!samePlatform(parsed.platform, target)) {
    throw new BuildError('TSBUILD_UNSUPPORTED', `FROM --platform=${spec}: ${NOT_YET}; this build is for ${formatPlatform(target)}`, { location });
  }
}

/** The base image's config, checked against (or completed with) the target platform. */
export function baseForTarget(name: string, config: ImageConfig, target: Platform, location: SourceLocation): ImageConfig {
  if (!config.os || !config.architecture) {
    const { variant: _variant, ...rest } = config;
    return { ...rest, os: target.os, architecture: target.architecture, ...(target.variant ? { variant: target.variant } : {}) };
  }
  const have = platformOf(config);
  if (samePlatform(have, target)) return config;
  // A base without a variant (arm images often have none) gets the target's, as the ARGs say.
  if (!config.variant && target.variant && samePlatform({ ...have, variant: target.variant }, target)) return { ...config, variant: target.variant };
  throw new BuildError('TSBUILD_UNSUPPORTED', `base image ${JSON.stringify(name)} is for ${formatPlatform(have)}, but this build is for ${formatPlatform(target)} (${NOT_YET})`, { location });
}
