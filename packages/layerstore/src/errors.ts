/**
 * Typed errors of the layer store. Callers branch on `code` (stable) or class,
 * never on message text. LayerstoreError is a TsbuildError (@tsbuild/errors), the root
 * every package's errors share.
 */
import { TsbuildError } from '@tsbuild/errors';

export type LayerstoreErrorCode =
  | 'TSBUILD_DIGEST_INVALID'
  | 'TSBUILD_DIGEST_MISMATCH'
  | 'TSBUILD_SIZE_MISMATCH'
  | 'TSBUILD_BLOB_NOT_FOUND'
  | 'TSBUILD_IMAGE_NOT_FOUND'
  | 'TSBUILD_REFERENCE_INVALID'
  | 'TSBUILD_MANIFEST_INVALID'
  | 'TSBUILD_TAR_INVALID'
  | 'TSBUILD_LAYER_UNSAFE'
  | 'TSBUILD_STORE_IO'
  | 'TSBUILD_STORE_LOCKED'
  | 'TSBUILD_NO_SPACE'
  | 'TSBUILD_UNSUPPORTED'
  | 'TSBUILD_CONFIG_INVALID'
  | 'TSBUILD_REGISTRY_AUTH'
  | 'TSBUILD_REGISTRY_UNAVAILABLE'
  | 'TSBUILD_REGISTRY_ERROR'
  | 'TSBUILD_REGISTRY_UNSAFE'
  | 'TSBUILD_REGISTRY_BLOCKED'
  | 'TSBUILD_REGISTRY_TOO_LARGE'
  | 'TSBUILD_PROXY_INVALID'
  | 'TSBUILD_PROXY_REFUSED';

export class LayerstoreError extends TsbuildError<LayerstoreErrorCode> {
  constructor(code: LayerstoreErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'LayerstoreError';
  }
}

/** Content did not match the digest or size it was promised under. */
export class IntegrityError extends LayerstoreError {
  constructor(
    code: 'TSBUILD_DIGEST_MISMATCH' | 'TSBUILD_SIZE_MISMATCH',
    message: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(code, message);
    this.name = 'IntegrityError';
  }
}

export class NotFoundError extends LayerstoreError {
  constructor(code: 'TSBUILD_BLOB_NOT_FOUND' | 'TSBUILD_IMAGE_NOT_FOUND', message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'NotFoundError';
  }
}

/** A tar stream that is malformed, or an entry that would leave its root. */
export class TarError extends LayerstoreError {
  constructor(code: 'TSBUILD_TAR_INVALID' | 'TSBUILD_LAYER_UNSAFE', message: string, readonly entry?: string) {
    super(code, message);
    this.name = 'TarError';
  }
}

/** Wrap a Node fs error (ENOSPC gets its own code so the CLI can say so plainly). */
export function ioError(what: string, cause: unknown): LayerstoreError {
  const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return new LayerstoreError('TSBUILD_NO_SPACE', `${what}: no space left on device`, { cause });
  }
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new LayerstoreError('TSBUILD_STORE_IO', `${what}: ${detail}`, { cause });
}
