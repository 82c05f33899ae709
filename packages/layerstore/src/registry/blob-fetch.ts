/**
 * Blob bytes from a registry, as one continuous stream for one BlobStore write
 * transaction (which hashes, counts, and commits only when size and digest match).
 *
 * Resume: when a connection drops or a body ends short, the next request asks for
 * `Range: bytes=<received>-`; a 206 with the right Content-Range continues the stream, a
 * 200 (Range ignored) is read from the start with the bytes already received skipped.
 * The partial data lives only in this process's ingest file: an interrupted *process*
 * starts the blob again (BlobStore ingests are not resumable across processes).
 * Up to `attempts` interruptions in a row without 1 MiB of progress, 16 in all.
 *
 * diff_id: a compressed layer is decompressed while it streams (zlib on the thread pool,
 * overlapping the download) and its uncompressed sha256 compared with the config's diff_id
 * before the blob is committed, so a pulled image is never stored or tagged with layers
 * that do not match its config (case 57). This is most of a pull's CPU (inflating
 * Debian's 88 MiB layer takes ~0.5 s); an unpack that runs during the pull could share it.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import type { Digest } from '../digest.js';
import { IntegrityError, LayerstoreError } from '../errors.js';
import type { Compression } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import { decompressor } from '../layer/compress.js';
import { isAbort, RegistryError } from './errors.js';
import type { EventSink } from './events.js';
import { isTransientNetworkError, networkDetail } from './http.js';
import { backoff, wait, type RetryPolicy } from './retry.js';
import type { RepoSession } from './session.js';

const MiB = 1024 * 1024;
const MAX_INTERRUPTIONS = 16;
/** Compressed bytes allowed to wait for the inflater before the download pauses. */
const INFLATE_BACKLOG = 32 * MiB;

export interface BlobFetch {
  session: RepoSession;
  desc: Descriptor;
  /** Names the blob in errors: `layer 2/3 sha256:... of x:1`. */
  what: string;
  emit: EventSink;
  retry: RetryPolicy;
  signal?: AbortSignal;
}

export async function* blobBytes(f: BlobFetch): AsyncGenerator<Buffer> {
  const { session, desc } = f;
  let offset = 0;
  let reported = 0;
  let inARow = 0;
  let interruptions = 0;
  for (;;) {
    const res = await session.request({ method: 'GET', url: `blobs/${desc.digest}`, what: f.what, ...(offset > 0 ? { headers: { Range: `bytes=${offset}-` } } : {}) });
    await session.expect(res, offset > 0 ? [200, 206] : [200], f.what, 'TSBUILD_BLOB_NOT_FOUND');
    let skip = 0;
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== offset) {
        res.body.destroy();
        throw session.error('TSBUILD_REGISTRY_ERROR', `${f.what}: ${session.name} answered a range request for bytes ${offset}- with Content-Range ${JSON.stringify(res.headers['content-range'] ?? '')}`);
      }
    } else skip = offset;
    const length = Number(res.headers['content-length']);
    const want = res.status === 206 ? desc.size - offset : desc.size;
    if (res.headers['content-length'] !== undefined && length !== want) {
      res.body.destroy();
      throw new IntegrityError('TSBUILD_SIZE_MISMATCH', `${f.what}: ${session.name} sends ${length} bytes (Content-Length) where ${want} are expected`, String(want), String(length));
    }
    const before = offset;
    let cause: unknown;
    // Socket reads are ~64 KiB; hand on ~1 MiB at a time (fewer writes and hops downstream).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = () => {
      const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      if (offset - reported >= MiB) {
        reported = offset;
        f.emit({ type: 'progress', digest: desc.digest, size: desc.size, done: offset });
      }
      return out;
    };
    try {
      for await (const chunk of res.body) {
        let c = chunk as Buffer;
        if (skip > 0) {
          if (c.length <= skip) {
            skip -= c.length;
            continue;
          }
          c = c.subarray(skip);
          skip = 0;
        }
        offset += c.length;
        pending.push(c);
        pendingBytes += c.length;
        if (pendingBytes >= MiB) yield flush();
      }
    } catch (err) {
      if (isAbort(err) || f.signal?.aborted || !isTransientNetworkError(err)) throw err;
      cause = err;
    }
    if (pendingBytes > 0) yield flush();
    if (offset >= desc.size && cause === undefined) {
      f.emit({ type: 'progress', digest: desc.digest, size: desc.size, done: offset });
      return;
    }
    inARow = offset - before >= MiB ? 1 : inARow + 1;
    interruptions++;
    const reason = `cut short at ${offset} of ${desc.size} bytes${cause ? ` (${networkDetail(cause)})` : ''}`;
    if (inARow >= f.retry.attempts || interruptions > MAX_INTERRUPTIONS) {
      throw new RegistryError('TSBUILD_REGISTRY_UNAVAILABLE', `${f.what}: truncated: ${session.name} ${reason}, ${interruptions} times`, { registry: session.endpoint.registry, cause });
    }
    const delay = backoff(f.retry, inARow);
    f.emit({ type: 'retry', endpoint: session.endpoint.host, what: f.what, attempt: interruptions, delayMs: delay, reason });
    await wait(delay, f.signal);
  }
}

export interface DiffIdCheck {
  stream: AsyncGenerator<Buffer>;
  /** After the stream ended: the error if the data did not decompress (checked after the digest, see below). */
  corrupt(): Error | undefined;
}

/**
 * Pass `source` through while decompressing and hashing it. At the end (before the
 * consumer commits anything) the stream throws unless the uncompressed sha256 is
 * `diffId`. Data that does not decompress at all is passed on to the end regardless, so
 * the consumer's digest check reports a corrupted download as such; `corrupt()` then
 * tells whether an authentic blob is simply not valid compressed data.
 */
export function checkingDiffId(source: AsyncIterable<Buffer>, compression: Exclude<Compression, 'none'>, diffId: Digest, what: string): DiffIdCheck {
  let failure: Error | undefined;
  async function* stream(): AsyncGenerator<Buffer> {
    // gzip gets its own inflater with a deep input buffer, so the download never waits
    // for it chunk by chunk (it catches up at the end); zlib inflates on the thread pool.
    const dec = compression === 'gzip' ? createGunzip({ chunkSize: 256 * 1024 }) : decompressor(compression);
    const hash = createHash('sha256');
    dec.on('data', (c: Buffer) => hash.update(c));
    dec.on('error', (err: Error) => (failure ??= err));
    const done = new Promise<void>((resolve) => {
      dec.once('end', resolve);
      dec.once('error', () => resolve());
    });
    try {
      for await (const chunk of source) {
        if (!failure && !dec.write(chunk) && dec.writableLength > INFLATE_BACKLOG) await Promise.race([once(dec, 'drain').catch(() => {}), done]);
        yield chunk;
      }
      if (!failure) {
        dec.end();
        await done;
      }
      if (failure) return;
      const got: Digest = `sha256:${hash.digest('hex')}`;
      if (got !== diffId) {
        throw new IntegrityError('TSBUILD_DIGEST_MISMATCH', `${what}: uncompressed content does not match the config's diff_id: expected ${diffId}, got ${got}`, diffId, got);
      }
    } finally {
      dec.destroy();
    }
  }
  return {
    stream: stream(),
    corrupt: () => (failure ? new LayerstoreError('TSBUILD_TAR_INVALID', `${what}: not valid ${compression} data: ${failure.message}`, { cause: failure }) : undefined),
  };
}
