/**
 * One chunk -> one complete gzip member or zstd frame: the single definition of the
 * bytes of a chunk, used by the worker threads and, for an input of at most one chunk,
 * by the calling thread. Both depend only on the bytes and the level: zlib's gzip
 * header here is fixed (mtime 0, no name, the platform's OS byte), and a zstd frame is
 * made in one ZSTD_compress2 call with the chunk's size known (recorded in its header).
 */
import { gzip, gzipSync } from 'node:zlib';
import binding from 'zstd-napi/binding.js';

export type ChunkFormat = 'gzip' | 'zstd';

/** Per-thread zstd context and output scratch, reused from chunk to chunk. */
let zstdCtx: { cctx: binding.CCtx; level: number; scratch: Buffer } | undefined;

function zstdFrame(data: Uint8Array, level: number): Uint8Array {
  if (!zstdCtx || zstdCtx.level !== level) {
    const cctx = new binding.CCtx();
    cctx.setParameter(binding.CParameter.compressionLevel, level);
    zstdCtx = { cctx, level, scratch: zstdCtx?.scratch ?? Buffer.alloc(0) };
  }
  const bound = binding.compressBound(data.length);
  if (zstdCtx.scratch.length < bound) zstdCtx.scratch = Buffer.allocUnsafeSlow(bound);
  const n = zstdCtx.cctx.compress2(zstdCtx.scratch, data);
  return new Uint8Array(zstdCtx.scratch.subarray(0, n)); // a copy that owns its memory
}

/** The chunk's member/frame. A zstd result owns its whole ArrayBuffer; a gzip one may not. */
export function encodeChunk(format: ChunkFormat, data: Uint8Array, level: number): Uint8Array {
  return format === 'gzip' ? gzipSync(data, { level }) : zstdFrame(data, level);
}

/** The same bytes as encodeChunk; gzip on libuv's thread pool (zstd of one chunk is quick). */
export function encodeChunkAsync(format: ChunkFormat, data: Uint8Array, level: number): Promise<Buffer> {
  if (format === 'zstd') {
    const frame = zstdFrame(data, level);
    return Promise.resolve(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  }
  return new Promise((resolve, reject) => gzip(data, { level }, (err, out) => (err ? reject(err) : resolve(out))));
}
