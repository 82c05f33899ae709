/**
 * Parallel compression (parallel-compress.ts): the output is one valid stream that
 * Node, zstd-napi and the host's gzip/pigz/zstd decompress to the input; it is the
 * member/frame-per-chunk format exactly; the same bytes across runs, worker counts and
 * how the input arrives; edge sizes (empty, 1 byte, chunk multiples) work; layerAs uses it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { compress as zstdOneShot, DecompressStream } from 'zstd-napi';
import { LayerstoreError } from '../errors.js';
import { MediaType } from '../image/media-types.js';
import { Store } from '../store/store.js';
import { tempDir } from '../testing/fstree.js';
import { encodeChunk, type ChunkFormat } from './chunk-codec.js';
import { layerAs, openUncompressed } from './commit.js';
import { CompressPool } from './compress-pool.js';
import { compressor } from './compress.js';
import { CHUNK_SIZE, parallelCompressor } from './parallel-compress.js';
import { data7bit, sha256 } from './testdata.js';

const FORMATS = ['gzip', 'zstd'] as const;
const sizes = (c: number) => [0, 1, 1000, c - 1, c, c + 1, 2 * c, 3 * c + 12_345];
const pools = new Map<number, CompressPool>();
const pool = (size: number) => pools.get(size) ?? pools.set(size, new CompressPool({ size })).get(size)!;
test.after.always(async () => Promise.all([...pools.values()].map((p) => p.close())));

/** `data` arriving in pieces of `piece` bytes. */
const pieces = (data: Buffer, piece: number) => Readable.from(Array.from({ length: Math.ceil(data.length / piece) }, (_, i) => data.subarray(i * piece, (i + 1) * piece)));

async function all(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Buffers compared by content (ava's deepEqual is far too slow for megabytes). */
function same(t: ExecutionContext, got: Buffer, want: Buffer, what: string): void {
  t.true(got.equals(want), `${what}: ${got.length} bytes (sha256 ${sha256(got).slice(0, 12)}), want ${want.length} bytes (sha256 ${sha256(want).slice(0, 12)})`);
}

const pack = (format: ChunkFormat, data: Buffer, opts: { size?: number; piece?: number; level?: number } = {}) =>
  all(pieces(data, opts.piece ?? 65_536).pipe(parallelCompressor(format, { pool: pool(opts.size ?? 2), ...(opts.level !== undefined ? { level: opts.level } : {}) })));
const unpack = (format: ChunkFormat, packed: Buffer) => all(Readable.from([packed]).pipe(format === 'gzip' ? createGunzip() : new DecompressStream()));

/** Run a host decompressor on `packed`; resolves with its output. */
function hostDecompress(bin: string, packed: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${bin} -dc exited ${code}: ${err}`))));
    child.stdin.end(packed);
  });
}

const HOST_TOOLS: Record<ChunkFormat, string[]> = { gzip: ['gzip', 'pigz'], zstd: ['zstd'] };
const host = (format: ChunkFormat) => HOST_TOOLS[format].map((n) => ['/usr/bin/', '/bin/'].map((d) => d + n).find((p) => existsSync(p))).filter((p): p is string => p !== undefined);

for (const format of FORMATS) {
  const C = CHUNK_SIZE[format];

  test(`${format}: every edge size decompresses to the input with Node and the host's ${HOST_TOOLS[format].join(' and ')}`, async (t) => {
    const tools = host(format);
    t.log(`host tools: ${tools.join(', ') || 'none'}`);
    for (const size of sizes(C)) {
      const data = data7bit(size, size);
      const packed = await pack(format, data);
      same(t, await unpack(format, packed), data, `${format === 'gzip' ? 'gunzip' : 'zstd-napi'}, ${size} bytes`);
      for (const tool of tools) same(t, await hostDecompress(tool, packed), data, `${tool}, ${size} bytes`);
    }
  });

  test(`${format}: the output is one ${format === 'gzip' ? 'member' : 'frame'} per ${C >> 20} MiB chunk, and a one-shot ${format} up to one chunk`, async (t) => {
    const level = format === 'gzip' ? 6 : 3;
    for (const size of sizes(C)) {
      const data = data7bit(size, 7);
      const parts: Buffer[] = [];
      for (let off = 0; off < size || (size === 0 && parts.length === 0); off += C) parts.push(Buffer.from(encodeChunk(format, data.subarray(off, off + C), level)));
      same(t, await pack(format, data), Buffer.concat(parts), `${size} bytes`);
      if (size <= C) same(t, await pack(format, data), format === 'gzip' ? gzipSync(data) : zstdOneShot(data, { compressionLevel: 3 }), `${size} bytes is a one-shot ${format}`);
    }
  });

  test(`${format}: same bytes across runs, worker counts and input piece sizes`, async (t) => {
    const data = data7bit(2 * C + 777_777, 3);
    const want = await pack(format, data, { size: 1 });
    for (const size of [1, 2, 4]) {
      for (const piece of [1000, 65_536, C + 3]) same(t, await pack(format, data, { size, piece }), want, `${size} workers, ${piece}-byte pieces`);
    }
    same(t, await all(pieces(data, 1 << 20).pipe(compressor(format))), want, 'compressor() on the shared pool');
  });

  test(`${format}: the level is used, and a bad one is an error`, async (t) => {
    const text = Array.from({ length: 120_000 }, (_, i) => `line ${i}: ${(i * 7919) % 10007} ${i % 3 ? 'usr/lib' : 'etc/ssl'}\n`).join('');
    const data = Buffer.concat([Buffer.from(text), data7bit(C, 1)]);
    const [fast, best] = format === 'gzip' ? [1, 9] : [1, 12];
    const small = await pack(format, data, { level: best });
    t.true(small.length < (await pack(format, data, { level: fast })).length);
    same(t, await unpack(format, small), data, `level ${best}`);
    if (format === 'gzip') same(t, await pack(format, data, { level: -1 }), await pack(format, data), 'zlib default is level 6');
    const err = t.throws(() => parallelCompressor(format, { level: format === 'gzip' ? 10 : 23 }), { instanceOf: LayerstoreError });
    t.regex(err?.message ?? '', /compression level/);
  });
}

test('a stream destroyed midway stops, and the pool keeps working', async (t) => {
  const C = CHUNK_SIZE.gzip;
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < 64; i++) yield data7bit(C, i);
    })(),
  );
  let seen = 0;
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      seen += c.length;
      cb(seen > 3 * C ? new Error('sink full') : null);
    },
  });
  await t.throwsAsync(pipeline(source, parallelCompressor('gzip', { pool: pool(2) }), sink), { message: 'sink full' });
  const data = data7bit(3 * C, 9);
  same(t, await unpack('gzip', await pack('gzip', data)), data, 'after the destroyed stream');
});

test('layerAs: a large layer gets the parallel gzip and zstd blobs, the same in another store, reused from the record', async (t) => {
  const base = await tempDir(t);
  const data = data7bit(CHUNK_SIZE.zstd + 3 * CHUNK_SIZE.gzip + 99, 5);
  const digests: string[][] = [];
  for (const name of ['a', 'b']) {
    const store = await Store.open(join(base, name));
    const raw = await store.blobs.writeBytes(data);
    const desc = { mediaType: MediaType.ociLayer, digest: raw.digest, size: raw.size };
    const row: string[] = [];
    for (const c of FORMATS) {
      const packed = await layerAs(store, desc, raw.digest, c);
      t.is(packed.mediaType, c === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayerZstd);
      t.deepEqual(await layerAs(store, desc, raw.digest, c), packed, 'second call reuses the record');
      t.is(sha256(await all(await openUncompressed(store, packed, raw.digest))), sha256(data));
      row.push(packed.digest);
    }
    digests.push(row);
    await store.close();
  }
  t.deepEqual(digests[0], digests[1]);
  t.is(digests[0]![0], `sha256:${sha256(await pack('gzip', data))}`);
  t.is(digests[0]![1], `sha256:${sha256(await pack('zstd', data))}`);
});
