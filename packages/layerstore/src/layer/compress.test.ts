/** Compression formats: detection by magic bytes, in-process gzip/zstd, host xz/bzip2. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import test from 'ava';
import { LayerstoreError } from '../errors.js';
import { tempDir } from '../testing/fstree.js';
import { autoDecompress, compressor, detectFormat, peek } from './compress.js';

const run = promisify(execFile);
const DATA = Buffer.concat([Buffer.from('tar-ish text '.repeat(20000)), randomBytes(100_000)]);

async function all(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

const pieces = (b: Buffer, size = 7000) => Readable.from(Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size)));

async function hostCompress(t: Parameters<typeof tempDir>[0], tool: 'xz' | 'bzip2', data: Buffer): Promise<Buffer> {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'in'), data);
  await run(tool, ['-k', join(dir, 'in')]);
  return readFile(join(dir, tool === 'xz' ? 'in.xz' : 'in.bz2'));
}

test('detectFormat reads magic bytes', (t) => {
  t.is(detectFormat(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
  t.is(detectFormat(Buffer.from('BZh91AY')), 'bzip2');
  t.is(detectFormat(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  t.is(detectFormat(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  t.is(detectFormat(Buffer.from('ustar')), 'none');
  t.is(detectFormat(Buffer.from([0x1f])), 'none');
  t.is(detectFormat(Buffer.alloc(0)), 'none');
});

for (const format of ['gzip', 'zstd'] as const) {
  test(`${format}: compress then autoDecompress gives the bytes back; output is deterministic`, async (t) => {
    const packed = await all(pieces(DATA).pipe(compressor(format)));
    t.deepEqual(await all(pieces(DATA).pipe(compressor(format))), packed);
    const { format: found, stream } = await autoDecompress(pieces(packed, 3));
    t.is(found, format);
    t.deepEqual(await all(stream), DATA);
  });
}

for (const tool of ['xz', 'bzip2'] as const) {
  test(`${tool}: the host tool decompresses; corrupt input is a clear error`, async (t) => {
    const packed = await hostCompress(t, tool, DATA);
    const { format, stream } = await autoDecompress(pieces(packed));
    t.is(format, tool);
    t.deepEqual(await all(stream), DATA);
    const corrupt = Buffer.from(packed);
    for (let i = 64; i < 200; i++) corrupt[i] = corrupt[i]! ^ 0xff;
    const bad = await autoDecompress(pieces(corrupt));
    const err = await t.throwsAsync(all(bad.stream), { instanceOf: LayerstoreError });
    t.is(err?.code, 'TSBUILD_TAR_INVALID');
  });
}

test('uncompressed, tiny and empty inputs pass through', async (t) => {
  for (const input of [DATA, Buffer.from('abc'), Buffer.alloc(0)]) {
    const { format, stream } = await autoDecompress(pieces(input, 2));
    t.is(format, 'none');
    t.deepEqual(await all(stream), input);
  }
});

test('corrupt gzip fails the stream', async (t) => {
  const packed = await all(pieces(DATA).pipe(compressor('gzip')));
  for (let i = 100; i < 400; i++) packed[i] = packed[i]! ^ 0xff;
  const { stream } = await autoDecompress(pieces(packed));
  await t.throwsAsync(all(stream));
});

test('peek returns the first bytes and leaves them in the stream', async (t) => {
  const { bytes, stream } = await peek(pieces(DATA, 1), 6);
  t.deepEqual(bytes, DATA.subarray(0, 6));
  t.deepEqual(await all(stream), DATA);
});
