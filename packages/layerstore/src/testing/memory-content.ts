/**
 * An in-memory ContentStore for callers' tests: the same transaction and verification
 * rules as the filesystem store (both run testing/content-suite.ts), no disk.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DigestingStream, hashToDigest, type Digest } from '../digest.js';
import { ioError, LayerstoreError } from '../errors.js';
import { ContentBase, digestError, notFound, sizeError, toReadable, type ByteSource, type Expected, type WriteResult } from '../store/content.js';

export class MemoryContentStore extends ContentBase {
  private readonly blobs = new Map<Digest, Buffer>();

  async size(digest: Digest): Promise<number | undefined> {
    return this.blobs.get(digest)?.length;
  }

  async *list(): AsyncGenerator<Digest> {
    yield* [...this.blobs.keys()];
  }

  async open(ref: { digest: Digest; size?: number }, what?: string): Promise<Readable> {
    const bytes = this.blobs.get(ref.digest);
    if (bytes === undefined) throw notFound(ref.digest, what);
    const verifier = new DigestingStream({ digest: ref.digest, size: ref.size ?? bytes.length, ...(what ? { what } : {}) });
    return Readable.from([bytes]).pipe(verifier);
  }

  async write(source: ByteSource, expect: Expected = {}): Promise<WriteResult> {
    if (expect.digest && expect.size !== undefined && this.blobs.get(expect.digest)?.length === expect.size) {
      if (source instanceof Readable) source.destroy();
      return { digest: expect.digest, size: expect.size, created: false };
    }
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of toReadable(source)) {
        size += (chunk as Buffer).length;
        if (expect.size !== undefined && size > expect.size) throw sizeError(expect, `more than ${expect.size}`);
        hash.update(chunk as Buffer);
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      if (err instanceof LayerstoreError) throw err;
      throw ioError(`write blob${expect.digest ? ` ${expect.digest}` : ''}`, err);
    }
    const digest = hashToDigest(hash);
    if (expect.size !== undefined && size !== expect.size) throw sizeError(expect, String(size));
    if (expect.digest && digest !== expect.digest) throw digestError({ ...expect, digest: expect.digest }, digest);
    if (this.blobs.get(digest)?.length === size) return { digest, size, created: false };
    this.blobs.set(digest, Buffer.concat(chunks));
    return { digest, size, created: true };
  }

  async delete(digest: Digest): Promise<void> {
    this.blobs.delete(digest);
  }

  /** Flip the first byte of a committed blob behind the store's back (for verify-on-read tests). */
  corrupt(digest: Digest): void {
    const bytes = this.blobs.get(digest);
    if (bytes && bytes.length > 0) bytes[0] = bytes[0]! ^ 0xff;
  }
}
