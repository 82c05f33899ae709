/**
 * Compression in parallel: the input is cut into fixed-size chunks, each chunk becomes
 * an independent gzip member or zstd frame compressed on the worker pool, and they are
 * written in input order. A sequence of gzip members is one valid gzip stream (RFC 1952
 * section 2.2), and a sequence of zstd frames one valid zstd stream (RFC 8878 section 3):
 * gunzip, zstd, Go's compress/gzip, klauspost/compress/zstd and containerd read them whole.
 *
 * Determinism: the output is a function of the input bytes and the level only. Chunk
 * boundaries are fixed offsets (not how the input arrives, nor the worker count), and
 * every chunk is encoded by `encodeChunk`. An input of at most one chunk is a single
 * member/frame, byte for byte what a one-shot compression of it gives, so it is encoded
 * on the calling thread without waking the pool; the bytes are the same either way.
 *
 * Memory is flat: at most `maxInFlight` chunks are queued, compressing, or waiting for
 * an earlier one, and `_transform` takes no more input until one is written out (the
 * readable side's backpressure holds the write callback too).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { LayerstoreError } from '../errors.js';
import { encodeChunkAsync, type ChunkFormat } from './chunk-codec.js';
import { sharedPool, type CompressPool } from './compress-pool.js';

/**
 * Uncompressed bytes per gzip member / zstd frame. Changing one changes the digest of
 * every layer above it. zstd's is larger: its frames lose more at a cut (1.2% on a
 * Debian rootfs at 4 MiB, 0.2% at 8 MiB, against one frame), gzip's 32 KiB window little.
 */
export const CHUNK_SIZE: Record<ChunkFormat, number> = { gzip: 1 << 20, zstd: 8 << 20 };

/** Levels accepted, and the default (zlib's 6; zstd's 3). */
export const LEVELS: Record<ChunkFormat, { min: number; max: number; default: number }> = {
  gzip: { min: 0, max: 9, default: 6 },
  zstd: { min: 1, max: 22, default: 3 },
};

/** Input bytes one stream may have in flight, whatever the number of CPUs. */
const MAX_IN_FLIGHT_BYTES = 64 << 20;

export interface ParallelOptions {
  level?: number;
  /** The pool to compress on (default: the process-wide one). */
  pool?: CompressPool;
  /** Chunk size (tests only: a different size gives different bytes). */
  chunkSize?: number;
  /** Chunks in flight per stream (default: the pool size + 2, at most 64 MiB of input). */
  maxInFlight?: number;
}

interface Job {
  done: Promise<void>;
  out?: Buffer;
  err?: Error;
}

export function parallelCompressor(format: ChunkFormat, opts: ParallelOptions = {}): Transform {
  return new ParallelCompress(format, opts);
}

class ParallelCompress extends Transform {
  private readonly level: number;
  private readonly chunkSize: number;
  private readonly maxInFlight: number;
  private readonly poolOpt: CompressPool | undefined;
  private pool: CompressPool | undefined;
  private cur: Buffer | undefined;
  private fill = 0;
  private submitted = 0;
  private readonly jobs: Job[] = [];
  /** Chunk buffers back from the workers, reused (at most maxInFlight + 1 ever exist). */
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly format: ChunkFormat,
    opts: ParallelOptions,
  ) {
    super({ writableHighWaterMark: 1 << 20, readableHighWaterMark: 1 << 20 });
    const { min, max } = LEVELS[format];
    // zlib's -1 means its default, level 6 (the same bytes).
    const level = opts.level === -1 && format === 'gzip' ? LEVELS.gzip.default : (opts.level ?? LEVELS[format].default);
    if (!Number.isInteger(level) || level < min || level > max) throw new LayerstoreError('TSBUILD_UNSUPPORTED', `${format} compression level ${level}: want ${min}-${max}`);
    this.level = level;
    this.chunkSize = opts.chunkSize ?? CHUNK_SIZE[format];
    // The caller's bug, never a user's failure (no flag sets it).
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) throw new RangeError(`chunkSize ${this.chunkSize}`);
    this.poolOpt = opts.pool;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? Math.min((opts.pool ?? sharedPool()).size + 2, Math.max(2, Math.floor(MAX_IN_FLIGHT_BYTES / this.chunkSize))));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.accept(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.finish().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.pool?.cancel(this);
    this.cur = undefined;
    this.jobs.length = 0;
    this.spare.length = 0;
    cb(err);
  }

  private async accept(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length && !this.destroyed) {
      // A full chunk is sent once the next byte arrives, so a single-chunk input is
      // known as such at the end and stays on this thread.
      if (this.cur && this.fill === this.chunkSize) await this.submit();
      this.cur ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(this.chunkSize);
      const n = chunk.copy(this.cur, this.fill, off);
      off += n;
      this.fill += n;
    }
    this.writeDone();
  }

  private async finish(): Promise<void> {
    if (this.submitted === 0) {
      // The whole input is one chunk (or empty): one member/frame, made here.
      this.push(await encodeChunkAsync(this.format, this.cur ? this.cur.subarray(0, this.fill) : new Uint8Array(0), this.level));
      return;
    }
    if (this.fill > 0) await this.submit();
    while (this.jobs.length > 0) {
      await this.jobs[0]!.done;
      this.writeDone();
    }
  }

  /** Hand the current chunk to the pool, first waiting for room in the window. */
  private async submit(): Promise<void> {
    while (this.jobs.length >= this.maxInFlight) {
      await this.jobs[0]!.done;
      this.writeDone();
    }
    if (this.destroyed || !this.cur) return;
    const buf = this.cur;
    const length = this.fill;
    this.cur = undefined;
    this.fill = 0;
    this.submitted++;
    this.pool ??= this.poolOpt ?? sharedPool();
    const job: Job = { done: Promise.resolve() };
    job.done = this.pool.encode(this.format, buf, length, this.level, this).then(
      ({ out, input }) => {
        job.out = out;
        if (!this.destroyed) this.spare.push(input);
      },
      (err: Error) => void (job.err = err),
    );
    this.jobs.push(job);
  }

  /** Write out finished chunks in order; the first failed one fails the stream. */
  private writeDone(): void {
    while (this.jobs.length > 0) {
      const head = this.jobs[0]!;
      if (head.err) throw head.err;
      if (!head.out) return;
      this.jobs.shift();
      this.push(head.out);
    }
  }
}
