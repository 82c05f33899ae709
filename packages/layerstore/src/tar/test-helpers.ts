/** Helpers shared by the tar tests (not part of the public API). */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import { TarError } from '../errors.js';
import { BLOCK_SIZE, F, writeChecksum } from './fields.js';
import type { TarEntryType, TarHeader } from './header.js';
import { readTar, type ReadTarOptions } from './reader.js';
import { writeTar, type TarWriteEntry } from './writer.js';

export const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A header with defaults; `extra` overrides any field. */
export function hdr(name: string | Buffer, type: TarEntryType = 'file', extra: Partial<TarHeader> = {}): TarHeader {
  return {
    name: typeof name === 'string' ? b(name) : name,
    type,
    mode: type === 'directory' ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 1_700_000_000,
    ...extra,
  };
}

/** A file entry with its body. */
export function file(name: string | Buffer, content: string | Buffer, extra: Partial<TarHeader> = {}): TarWriteEntry {
  const body = typeof content === 'string' ? b(content) : content;
  return { header: hdr(name, 'file', { size: body.length, ...extra }), body };
}

export async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

export function archive(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>): Promise<Buffer> {
  return collect(writeTar(entries));
}

/** The buffer as an async iterable of chunks of `size` bytes (or of the given sizes, cycled). */
export async function* chunked(buf: Buffer, size: number | number[] = 65536): AsyncGenerator<Buffer> {
  const sizes = Array.isArray(size) ? size : [size];
  for (let pos = 0, i = 0; pos < buf.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield buf.subarray(pos, pos + n);
    pos += n;
  }
}

export interface ReadEntry {
  header: TarHeader;
  body: Buffer;
}

export async function readAll(input: Buffer | AsyncIterable<Buffer>, opts?: ReadTarOptions): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  for await (const { header, body } of readTar(Buffer.isBuffer(input) ? chunked(input) : input, opts)) {
    out.push({ header, body: await collect(body) });
  }
  return out;
}

/** Re-seal a hand-edited header block at `offset` of an archive. */
export function patchBlock(tar: Buffer, offset: number, edit: (blk: Buffer) => void): Buffer {
  const out = Buffer.from(tar);
  const blk = out.subarray(offset, offset + BLOCK_SIZE);
  edit(blk);
  writeChecksum(blk);
  return out;
}

/** A single header block with the given typeflag and data (for meta headers the writer never makes). */
export function rawEntry(typeflag: string, name: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const blk = Buffer.alloc(BLOCK_SIZE);
  blk.write(name, 0, 'latin1');
  blk.write('0000644\0', F.mode[0], 'latin1');
  blk.write('0000000\0', F.uid[0], 'latin1');
  blk.write('0000000\0', F.gid[0], 'latin1');
  blk.write(data.length.toString(8).padStart(11, '0') + '\0', F.size[0], 'latin1');
  blk.write('00000000000\0', F.mtime[0], 'latin1');
  blk.write(typeflag, F.typeflag[0], 'latin1');
  blk.write('ustar\x0000', F.magic[0], 'latin1');
  writeChecksum(blk);
  const pad = Buffer.alloc((BLOCK_SIZE - (data.length % BLOCK_SIZE)) % BLOCK_SIZE);
  return Buffer.concat([blk, data, pad]);
}

export const END = Buffer.alloc(2 * BLOCK_SIZE);

const execFileP = promisify(execFile);

/** Run a command; stdout as a Buffer so non-UTF-8 names survive. */
export async function run(cmd: string, args: string[], cwd?: string): Promise<Buffer> {
  const { stdout } = await execFileP(cmd, args, { cwd, encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

/** A temporary directory removed when the test ends. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-tar-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Assert `p` rejects with a TarError of code TSBUILD_TAR_INVALID whose message matches. */
export async function throwsTar(
  t: ExecutionContext,
  p: Promise<unknown> | (() => unknown),
  message?: RegExp,
  label?: string,
): Promise<TarError | undefined> {
  const promise = typeof p === 'function' ? (async () => p())() : p;
  const err = await t.throwsAsync(promise, { instanceOf: TarError }, label);
  t.is(err?.code, 'TSBUILD_TAR_INVALID', label);
  if (message) t.regex(err?.message ?? '', message, label);
  return err;
}
