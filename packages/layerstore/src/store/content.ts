/**
 * The blob store interface: content-addressed bytes with four verbs — stat (size, has,
 * list), read (open, verified), write (a transaction) and delete. The filesystem
 * store (blobs.ts) and the in-memory fake (testing/memory-content.ts) implement it,
 * and both run one conformance suite (testing/content-suite.ts).
 *
 * States of a blob: absent -> (write: bytes stream in, hashed and counted; size and
 * digest checked against what the caller expected) -> committed, immutable -> (delete)
 * -> absent. A write that fails leaves the blob absent; a write of a committed blob
 * succeeds with `created: false`. A read fails (IntegrityError) when the bytes do not
 * match the digest or size it was opened with.
 *
 *   const { digest, size } = await content.write(layerStream, { what: 'layer 1' });
 *   for await (const chunk of await content.open({ digest, size })) use(chunk);
 *
 * Whole small reads and JSON are derived from open (ContentBase), never implemented twice.
 */
import { Readable } from 'node:stream';
import type { Digest } from '../digest.js';
import { IntegrityError, LayerstoreError, NotFoundError } from '../errors.js';
import { parseJson } from '../image/json.js';

export interface BlobRef {
  digest: Digest;
  size: number;
}

export interface WriteResult extends BlobRef {
  /** False when the blob was already in the store. */
  created: boolean;
}

export interface Expected {
  digest?: Digest;
  size?: number;
  /** Names the blob in errors, e.g. `layer 2 of busybox:latest`. */
  what?: string;
}

export type ByteSource = Readable | AsyncIterable<Buffer> | Iterable<Buffer>;

/** Caps for blobs read whole into memory (containers/image's limits). */
export const MAX_JSON_BLOB = 4 * 1024 * 1024;

export interface ContentStore {
  /** Size of a committed blob, or undefined when absent. */
  size(digest: Digest): Promise<number | undefined>;
  has(digest: Digest): Promise<boolean>;
  /** Every committed blob. */
  list(): AsyncIterable<Digest>;
  /** A verified reader: fails on a size or digest mismatch; NotFoundError when absent. */
  open(ref: { digest: Digest; size?: number }, what?: string): Promise<Readable>;
  /** Stream bytes in as one transaction (see above). */
  write(source: ByteSource, expect?: Expected): Promise<WriteResult>;
  /** Remove a blob; removing an absent one is no error. */
  delete(digest: Digest): Promise<void>;
}

/**
 * The derived verbs, for every implementation: whole small reads, JSON, bytes in. An
 * implementation writes only the five primitives; the class has nine methods because it
 * carries the four derived ones once for all of them (the conformance suite checks both).
 */
export abstract class ContentBase implements ContentStore {
  abstract size(digest: Digest): Promise<number | undefined>;
  abstract list(): AsyncIterable<Digest>;
  abstract open(ref: { digest: Digest; size?: number }, what?: string): Promise<Readable>;
  abstract write(source: ByteSource, expect?: Expected): Promise<WriteResult>;
  abstract delete(digest: Digest): Promise<void>;

  async has(digest: Digest): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  async writeBytes(data: Buffer, expect: Expected = {}): Promise<WriteResult> {
    return this.write([data], expect);
  }

  /** Read a whole (small) blob, verified, refusing anything above `max` bytes. */
  async readBytes(ref: { digest: Digest; size?: number }, opts: { max?: number; what?: string } = {}): Promise<Buffer> {
    const max = opts.max ?? MAX_JSON_BLOB;
    const stored = await this.size(ref.digest);
    if (stored === undefined) throw notFound(ref.digest, opts.what);
    if (stored > max) {
      throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${opts.what ?? 'blob'} ${ref.digest} is ${stored} bytes, more than the ${max} allowed`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await this.open(ref, opts.what)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** A small blob parsed as JSON (its shape unchecked: see image/validate.ts). */
  async readJson(ref: { digest: Digest; size?: number }, what?: string): Promise<unknown> {
    const bytes = await this.readBytes(ref, what ? { what } : {});
    return parseJson(bytes, `${what ?? 'blob'} ${ref.digest}`);
  }
}

export function notFound(digest: Digest, what?: string): NotFoundError {
  return new NotFoundError('TSBUILD_BLOB_NOT_FOUND', `${what ?? 'blob'} ${digest} not found in the store`);
}

export function sizeError(expect: Expected, got: string): IntegrityError {
  const what = expect.what ?? (expect.digest ? `blob ${expect.digest}` : 'blob');
  return new IntegrityError('TSBUILD_SIZE_MISMATCH', `${what}: size mismatch: expected ${expect.size} bytes, got ${got} bytes`, String(expect.size), got);
}

export function digestError(expect: Expected & { digest: Digest }, got: Digest): IntegrityError {
  const what = expect.what ?? `blob ${expect.digest}`;
  return new IntegrityError('TSBUILD_DIGEST_MISMATCH', `${what}: digest mismatch: expected ${expect.digest}, got ${got}`, expect.digest, got);
}

/** Any byte source as a Readable stream of Buffers. */
export function toReadable(source: ByteSource): Readable {
  if (source instanceof Readable) return source;
  return Readable.from(source as AsyncIterable<Buffer>, { objectMode: false });
}
