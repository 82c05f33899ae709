/**
 * Compression formats of layers and archives, detected by content (magic bytes).
 * gzip and zstd run in-process (compression on worker threads, parallel-compress.ts);
 * bzip2 and xz (ADD archives only) run the host's decompressor by absolute path with an
 * empty environment, never anything from the image being built.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Duplex, PassThrough, Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecompressStream } from 'zstd-napi';
import { LayerstoreError } from '../errors.js';
import type { CompressPool } from './compress-pool.js';
import { parallelCompressor } from './parallel-compress.js';

export type Format = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export function detectFormat(head: Buffer): Format {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

export interface CompressOptions {
  level?: number;
  /** The worker pool to compress on (default: the process-wide one). */
  pool?: CompressPool;
}

/**
 * A compressing transform: independent gzip members (1 MiB chunks) or zstd frames
 * (8 MiB chunks) compressed on worker threads and written in order (parallel-compress.ts).
 * Output is deterministic for the same input and level, whatever the number of threads.
 */
export function compressor(format: 'gzip' | 'zstd', opts: CompressOptions = {}): Transform {
  return parallelCompressor(format, opts);
}

const HOST_TOOLS: Record<'bzip2' | 'xz', string[]> = {
  bzip2: ['/usr/bin/bzip2', '/bin/bzip2'],
  xz: ['/usr/bin/xz', '/bin/xz'],
};

export function decompressor(format: Format): Duplex {
  switch (format) {
    case 'none':
      return new PassThrough();
    case 'gzip':
      return createGunzip({ chunkSize: 1 << 16 });
    case 'zstd':
      return new DecompressStream();
    case 'bzip2':
    case 'xz':
      return hostDecompressor(format);
  }
}

function hostDecompressor(format: 'bzip2' | 'xz'): Duplex {
  const bin = HOST_TOOLS[format].find((p) => existsSync(p));
  if (!bin) {
    throw new LayerstoreError('TSBUILD_UNSUPPORTED', `${format} archives need ${HOST_TOOLS[format][0]} on the host (Debian package ${format === 'xz' ? 'xz-utils' : 'bzip2'})`);
  }
  const child = spawn(bin, ['-dc'], { env: {}, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const out = new PassThrough();
  child.stdout.pipe(out, { end: false });
  let exited = false;
  let drained = false;
  const finish = (code: number | null) => {
    if (code !== 0) out.destroy(new LayerstoreError('TSBUILD_TAR_INVALID', `${format} decompression failed: ${stderr.trim() || `exit ${code}`}`));
    else out.end();
  };
  child.stdout.on('end', () => {
    drained = true;
    if (exited) finish(child.exitCode);
  });
  child.on('exit', () => {
    exited = true;
    if (drained) finish(child.exitCode);
  });
  child.on('error', (err) => out.destroy(err));
  // A tool that gives up on bad input stops reading: its exit status says why, not EPIPE.
  const input = new PassThrough();
  input.pipe(child.stdin);
  child.stdin.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') out.destroy(err);
  });
  const duplex = Duplex.from({ writable: input, readable: out });
  duplex.on('close', () => {
    if (!exited) child.kill('SIGKILL');
  });
  return duplex;
}

/**
 * Decompress a stream whose format is found from its first bytes.
 * Returns the format and the decompressed stream.
 */
export async function autoDecompress(input: Readable): Promise<{ format: Format; stream: Readable }> {
  const head = await peek(input, 6);
  const format = detectFormat(head.bytes);
  const d = decompressor(format);
  head.stream.on('error', (err) => d.destroy(err));
  return { format, stream: head.stream.pipe(d) };
}

/** Read the first `n` bytes of a stream without consuming them (they are pushed back). */
export async function peek(input: Readable, n: number): Promise<{ bytes: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < n && !ended) {
    const chunk = input.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      have += chunk.length;
      continue;
    }
    // 'end' may already have been emitted (right after the 'readable' that announced it).
    if (input.readableEnded) {
      ended = true;
      break;
    }
    ended = await new Promise<boolean>((resolve, reject) => {
      const done = (value: boolean) => () => {
        input.off('readable', onReadable);
        input.off('end', onEnd);
        input.off('error', onError);
        resolve(value);
      };
      const onReadable = done(false);
      const onEnd = done(true);
      const onError = (err: Error) => {
        input.off('readable', onReadable);
        input.off('end', onEnd);
        reject(err);
      };
      input.once('readable', onReadable);
      input.once('end', onEnd);
      input.once('error', onError);
    });
  }
  const bytes = Buffer.concat(chunks);
  if (ended) return { bytes: bytes.subarray(0, n), stream: Readable.from([bytes]) };
  input.unshift(bytes);
  return { bytes: bytes.subarray(0, n), stream: input };
}
