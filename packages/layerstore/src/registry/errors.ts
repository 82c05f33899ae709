/**
 * Registry errors: a LayerstoreError that also names the registry (and, once known, the
 * reference) it concerns. Callers branch on `code`:
 *
 *   TSBUILD_REGISTRY_AUTH         credentials missing or refused (401/403, token server said no)
 *   TSBUILD_REGISTRY_UNAVAILABLE  unreachable, 5xx/429 or dropped connections after the retries
 *   TSBUILD_REGISTRY_ERROR        any other unexpected answer (the registry's error text included)
 *   TSBUILD_REGISTRY_UNSAFE       a redirect, realm or upload location we refuse to follow
 *   TSBUILD_REGISTRY_BLOCKED      registries.conf blocks the registry (`blocked = true`)
 *   TSBUILD_REGISTRY_TOO_LARGE    a manifest, config, token or error body over its cap
 *   TSBUILD_IMAGE_NOT_FOUND / TSBUILD_BLOB_NOT_FOUND   404
 *   TSBUILD_DIGEST_MISMATCH / TSBUILD_SIZE_MISMATCH    content that is not what was promised
 *   TSBUILD_MANIFEST_INVALID      a malformed or ambiguous manifest, media-type confusion
 *   TSBUILD_PROXY_INVALID         HTTP(S)_PROXY names an unsupported scheme (socks5...) or is not a URL
 *   TSBUILD_PROXY_REFUSED         the proxy answered CONNECT with a non-2xx status, or 407 to a request
 *
 * Not being able to reach a proxy is TSBUILD_REGISTRY_UNAVAILABLE (after retries), its
 * message naming the proxy.
 */
import { LayerstoreError, type LayerstoreErrorCode } from '../errors.js';

export class RegistryError extends LayerstoreError {
  /** The registry host (as in the reference, e.g. `docker.io`, `127.0.0.1:5000`) or endpoint. */
  readonly registry: string;
  /** The image reference, e.g. `127.0.0.1:5000/app:1`, when the error concerns one. */
  readonly reference: string | undefined;
  /** The HTTP status that caused it, if any. */
  readonly status: number | undefined;

  constructor(code: LayerstoreErrorCode, message: string, opts: { registry: string; reference?: string; status?: number; cause?: unknown }) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RegistryError';
    this.registry = opts.registry;
    this.reference = opts.reference;
    this.status = opts.status;
  }
}

/**
 * A connection to a registry or proxy that failed, timed out or closed before the answer,
 * as the transport (http.ts, tunnel.ts) reports it: `errno` is the socket's code
 * (ETIMEDOUT, ECONNRESET, the code of the error underneath) that decides whether it is
 * worth another attempt. Not a RegistryError, which the session treats as final: the
 * session retries this one, then reports TSBUILD_REGISTRY_UNAVAILABLE naming the registry.
 */
export class NetworkError extends LayerstoreError {
  constructor(message: string, readonly errno: string | undefined, options?: ErrorOptions) {
    super('TSBUILD_REGISTRY_UNAVAILABLE', message, options);
    this.name = 'NetworkError';
  }
}

/**
 * Rethrow `err` with the operation in front of its message (`pull x:1 from 127.0.0.1:5000: ...`),
 * keeping its code. Aborts pass through unchanged.
 */
export function withContext(err: unknown, prefix: string, registry: string, reference: string): unknown {
  if (isAbort(err)) return err;
  if (err instanceof LayerstoreError) {
    return new RegistryError(err.code, `${prefix}: ${err.message}`, {
      registry: err instanceof RegistryError ? err.registry : registry,
      reference,
      ...(err instanceof RegistryError && err.status !== undefined ? { status: err.status } : {}),
      cause: err,
    });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new RegistryError('TSBUILD_REGISTRY_ERROR', `${prefix}: ${detail}`, { registry, reference, cause: err });
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as NodeJS.ErrnoException).code === 'ABORT_ERR');
}

/** Throw if `signal` is aborted: its reason when that is an Error, else an AbortError (name and code as Node's). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') throw reason;
  throw Object.assign(new Error('The operation was aborted', { cause: reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}
