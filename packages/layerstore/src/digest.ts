import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError, LayerstoreError } from './errors.js';

/** An OCI digest. Only sha256 is produced; the grammar check is strict. */
export type Digest = `sha256:${string}`;

const SHA256_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && SHA256_RE.test(value);
}

export function parseDigest(value: string): Digest {
  if (!isDigest(value)) {
    throw new LayerstoreError('TSBUILD_DIGEST_INVALID', `invalid digest ${JSON.stringify(value.slice(0, 100))}: want sha256:<64 lowercase hex>`);
  }
  return value;
}

/** The hex part of a digest, safe to use as a file name once parsed. */
export function digestHex(d: Digest): string {
  return parseDigest(d).slice('sha256:'.length);
}

export function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function hashToDigest(h: Hash): Digest {
  return `sha256:${h.digest('hex')}`;
}

/**
 * A pass-through stream that counts and hashes what flows through it.
 * With `expect`, it fails as soon as more bytes arrive than promised, and at the end
 * on a size or digest mismatch (verify on read).
 */
export class DigestingStream extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  private result: Digest | undefined;

  constructor(private readonly expect?: { digest: Digest; size?: number; what?: string }) {
    super();
  }

  get digest(): Digest {
    // The caller's bug, never a user's failure.
    if (!this.result) throw new Error('DigestingStream: digest read before the stream ended');
    return this.result;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    const max = this.expect?.size;
    if (max !== undefined && this.size > max) {
      cb(sizeMismatch(this.expect!, this.size, true));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.result = hashToDigest(this.hash);
    const e = this.expect;
    if (e?.size !== undefined && this.size !== e.size) return cb(sizeMismatch(e, this.size, false));
    if (e && this.result !== e.digest) {
      const what = e.what ?? `blob ${e.digest}`;
      return cb(new IntegrityError('TSBUILD_DIGEST_MISMATCH', `${what}: digest mismatch: expected ${e.digest}, got ${this.result}`, e.digest, this.result));
    }
    cb();
  }
}

function sizeMismatch(e: { digest: Digest; size?: number; what?: string }, got: number, more: boolean): IntegrityError {
  const what = e.what ?? `blob ${e.digest}`;
  const detail = more ? `more than ${e.size} bytes` : `${got} bytes`;
  return new IntegrityError('TSBUILD_SIZE_MISMATCH', `${what}: size mismatch: expected ${e.size} bytes, got ${detail}`, String(e.size), String(got));
}
