/**
 * Content-addressed blobs under `<root>/blobs/sha256/<hex>`: the filesystem ContentStore (content.ts).
 *
 * Lifecycle of a write (a transaction, as containerd's content store commits):
 *   ingest/<pid>-<rand>  <- bytes stream in while being hashed and counted
 *   -> size and digest checked against what the caller expected (if anything)
 *   -> fsync(file) -> rename to blobs/sha256/<hex> (an existing blob is success)
 *   -> fsync(blobs/sha256)
 * Nothing after the rename can fail the write. A crash leaves at most a file in
 * ingest/, which `Store.recover()` deletes once its pid is gone.
 *
 * Reads are verified: a reader counts and hashes and fails on a size or digest
 * mismatch (at EOF, or as soon as more bytes arrive than the descriptor says).
 */
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { DigestingStream, digestHex, hashToDigest, isDigest, type Digest } from '../digest.js';
import { ioError, LayerstoreError } from '../errors.js';
import { ContentBase, digestError, notFound, sizeError, toReadable, type ByteSource, type ContentStore, type Expected, type WriteResult } from './content.js';
import { fsyncDir, tempName } from './fsutil.js';

export { MAX_JSON_BLOB, type BlobRef, type ByteSource, type Expected, type WriteResult } from './content.js';

/**
 * ContentStore's primitives on disk plus `init` (create the folders) and `path` (where a blob
 * lives, for the exporters that hard-link blobs into an OCI layout); the derived verbs come
 * from ContentBase. More than seven methods because it is ContentStore and those two.
 */
export class BlobStore extends ContentBase implements ContentStore {
  readonly dir: string;
  readonly ingestDir: string;

  /** Called with every blob this process commits (not ones that already existed). */
  readonly onCreate = new Set<(digest: Digest) => void>();
  /**
   * Called before a blob is relied on (read, reused, or renamed into place), so a
   * concurrent prune keeps it; see lease.ts. The Store sets this to its lease.
   */
  claim: (digest: Digest) => Promise<void> = async () => {};

  constructor(readonly root: string) {
    super();
    this.dir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await mkdir(this.ingestDir, { recursive: true });
  }

  path(digest: Digest): string {
    return join(this.dir, digestHex(digest));
  }

  /** Size of a committed blob, or undefined when absent. */
  async size(digest: Digest): Promise<number | undefined> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(`stat blob ${digest}`, err);
    }
  }

  /** Stream bytes into the store as one transaction; see the file comment. */
  async write(source: ByteSource, expect: Expected = {}): Promise<WriteResult> {
    if (expect.digest) await this.claim(expect.digest);
    if (expect.digest && (await this.size(expect.digest)) === expect.size && expect.size !== undefined) {
      // Already committed (and committed blobs were verified): the source is not read.
      if (source instanceof Readable) source.destroy();
      return { digest: expect.digest, size: expect.size, created: false };
    }
    const tmp = join(this.ingestDir, tempName(''));
    const hash = createHash('sha256');
    let size = 0;
    const fh = await open(tmp, 'wx', 0o644).catch((err) => {
      throw ioError(`create ingest file in ${this.ingestDir}`, err);
    });
    let committed = false;
    try {
      const sink = new Writable({
        highWaterMark: 1 << 20,
        write(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          if (expect.size !== undefined && size > expect.size) {
            cb(sizeError(expect, `more than ${expect.size}`));
            return;
          }
          hash.update(chunk);
          fh.write(chunk).then(() => cb(), cb);
        },
      });
      await pipeline(toReadable(source), sink);
      const digest = hashToDigest(hash);
      if (expect.size !== undefined && size !== expect.size) throw sizeError(expect, String(size));
      if (expect.digest && digest !== expect.digest) throw digestError({ ...expect, digest: expect.digest }, digest);
      await fh.sync();
      await fh.close();
      const final = this.path(digest);
      await this.claim(digest);
      const existing = await this.size(digest);
      if (existing === size) {
        await unlink(tmp).catch(() => {});
        committed = true;
        return { digest, size, created: false };
      }
      await chmod(tmp, 0o444);
      await rename(tmp, final);
      committed = true;
      for (const fn of this.onCreate) fn(digest);
      await fsyncDir(this.dir);
      return { digest, size, created: true };
    } catch (err) {
      if (err instanceof LayerstoreError) throw err;
      throw ioError(`write blob${expect.digest ? ` ${expect.digest}` : ''}`, err);
    } finally {
      if (!committed) {
        await fh.close().catch(() => {});
        await unlink(tmp).catch(() => {});
      }
    }
  }

  /** A verified reader: fails on a size or digest mismatch. */
  async open(ref: { digest: Digest; size?: number }, what?: string): Promise<Readable> {
    await this.claim(ref.digest);
    const path = this.path(ref.digest);
    const onDisk = await this.size(ref.digest);
    if (onDisk === undefined) {
      throw notFound(ref.digest, what);
    }
    const verifier = new DigestingStream({ digest: ref.digest, size: ref.size ?? onDisk, ...(what ? { what } : {}) });
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    file.on('error', (err) => verifier.destroy(ioError(`read blob ${ref.digest}`, err)));
    return file.pipe(verifier);
  }

  /** Read a whole (small) blob (see ContentBase), claimed first so a prune keeps it. */
  override async readBytes(ref: { digest: Digest; size?: number }, opts: { max?: number; what?: string } = {}): Promise<Buffer> {
    await this.claim(ref.digest);
    return super.readBytes(ref, opts);
  }

  async delete(digest: Digest): Promise<void> {
    await unlink(this.path(digest)).catch((err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`delete blob ${digest}`, err);
    });
  }

  async *list(): AsyncGenerator<Digest> {
    for (const name of await readdir(this.dir)) {
      const d = `sha256:${name}`;
      if (isDigest(d)) yield d;
    }
  }
}
