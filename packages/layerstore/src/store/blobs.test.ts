/**
 * BlobStore: a write is a transaction, reads are verified
 * (case 76), small reads are capped (P12).
 */
import { execFile } from 'node:child_process';
import { appendFile, readdir, readFile, stat, truncate, writeFile, chmod } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import test from 'ava';
import { sha256 } from '../digest.js';
import { IntegrityError, LayerstoreError, NotFoundError } from '../errors.js';
import { tempDir } from '../testing/fstree.js';
import { BlobStore } from './blobs.js';

const run = promisify(execFile);

async function store(t: Parameters<typeof tempDir>[0]): Promise<BlobStore> {
  const s = new BlobStore(await tempDir(t));
  await s.init();
  return s;
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const DATA = Buffer.from('some blob content\n'.repeat(100));
const DIGEST = sha256(DATA);

test('a new blob is committed read-only under its digest; the same bytes again are not created', async (t) => {
  const s = await store(t);
  const created: string[] = [];
  s.onCreate.add((d) => created.push(d));
  const first = await s.writeBytes(DATA);
  t.deepEqual(first, { digest: DIGEST, size: DATA.length, created: true });
  t.is((await stat(s.path(DIGEST))).mode & 0o777, 0o444);
  t.deepEqual(await readFile(s.path(DIGEST)), DATA);
  t.deepEqual(await s.writeBytes(DATA), { digest: DIGEST, size: DATA.length, created: false });
  t.deepEqual(await s.writeBytes(DATA, { digest: DIGEST, size: DATA.length }), { digest: DIGEST, size: DATA.length, created: false });
  t.deepEqual(created, [DIGEST]);
  t.deepEqual(await readdir(s.ingestDir), []);
  t.deepEqual(await collectList(s), [DIGEST]);
});

async function collectList(s: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const d of s.list()) out.push(d);
  return out;
}

test('an existing blob is not read again when digest and size are given', async (t) => {
  const s = await store(t);
  await s.writeBytes(DATA);
  const source = new Readable({
    read() {
      this.destroy(new Error('should not be read'));
    },
  });
  t.deepEqual(await s.write(source, { digest: DIGEST, size: DATA.length }), { digest: DIGEST, size: DATA.length, created: false });
});

test('commit states: wrong size and wrong digest fail with IntegrityError and leave nothing (case 71)', async (t) => {
  const s = await store(t);
  const short = await t.throwsAsync(s.writeBytes(DATA, { digest: DIGEST, size: DATA.length + 1 }), { instanceOf: IntegrityError });
  t.is(short?.code, 'TSBUILD_SIZE_MISMATCH');
  const long = await t.throwsAsync(s.write([DATA, DATA], { digest: DIGEST, size: DATA.length, what: 'layer 1 of x' }), { instanceOf: IntegrityError });
  t.is(long?.code, 'TSBUILD_SIZE_MISMATCH');
  t.regex(long?.message ?? '', /^layer 1 of x: size mismatch/);
  const other = sha256('other');
  const wrong = await t.throwsAsync(s.writeBytes(DATA, { digest: other }), { instanceOf: IntegrityError });
  t.is(wrong?.code, 'TSBUILD_DIGEST_MISMATCH');
  t.is(wrong?.expected, other);
  t.is(wrong?.actual, DIGEST);
  t.deepEqual(await readdir(s.ingestDir), [], 'nothing left in ingest/');
  t.deepEqual(await readdir(s.dir), [], 'nothing committed');
  t.false(await s.has(DIGEST));
});

test('a source that fails midway leaves nothing behind', async (t) => {
  const s = await store(t);
  async function* failing(): AsyncGenerator<Buffer> {
    yield DATA;
    throw new Error('network reset');
  }
  const err = await t.throwsAsync(s.write(failing()), { instanceOf: LayerstoreError });
  t.is(err?.code, 'TSBUILD_STORE_IO');
  t.regex(err?.message ?? '', /network reset/);
  t.deepEqual(await readdir(s.ingestDir), []);
  t.deepEqual(await readdir(s.dir), []);
});

test('verified reads fail on a flipped bit, a truncated blob and trailing bytes (case 76)', async (t) => {
  const s = await store(t);
  await s.writeBytes(DATA);
  const ref = { digest: DIGEST, size: DATA.length };
  t.deepEqual(await readAll(await s.open(ref)), DATA);
  const path = s.path(DIGEST);
  await chmod(path, 0o644);

  const flipped = Buffer.from(DATA);
  flipped[10] = flipped[10]! ^ 0x01;
  await writeFile(path, flipped);
  t.is((await t.throwsAsync(readAll(await s.open(ref)), { instanceOf: IntegrityError }))?.code, 'TSBUILD_DIGEST_MISMATCH');
  t.is((await t.throwsAsync(readAll(await s.open({ digest: DIGEST })), { instanceOf: IntegrityError }))?.code, 'TSBUILD_DIGEST_MISMATCH');

  await writeFile(path, DATA);
  await truncate(path, DATA.length - 1);
  t.is((await t.throwsAsync(readAll(await s.open(ref)), { instanceOf: IntegrityError }))?.code, 'TSBUILD_SIZE_MISMATCH');
  t.is((await t.throwsAsync(s.readBytes(ref), { instanceOf: IntegrityError }))?.code, 'TSBUILD_SIZE_MISMATCH');

  await writeFile(path, DATA);
  await appendFile(path, 'x');
  t.is((await t.throwsAsync(readAll(await s.open(ref)), { instanceOf: IntegrityError }))?.code, 'TSBUILD_SIZE_MISMATCH');
  t.is((await t.throwsAsync(readAll(await s.open({ digest: DIGEST })), { instanceOf: IntegrityError }))?.code, 'TSBUILD_DIGEST_MISMATCH');

  const missing = await t.throwsAsync(s.open({ digest: sha256('nope') }, 'layer 3'), { instanceOf: NotFoundError });
  t.is(missing?.code, 'TSBUILD_BLOB_NOT_FOUND');
  t.regex(missing?.message ?? '', /^layer 3 /);
});

test('readBytes refuses blobs above the cap; readJson refuses invalid JSON', async (t) => {
  const s = await store(t);
  const big = Buffer.alloc(2000, 0x20);
  const { digest } = await s.writeBytes(big);
  const err = await t.throwsAsync(s.readBytes({ digest }, { max: 1999, what: 'manifest' }), { instanceOf: LayerstoreError });
  t.is(err?.code, 'TSBUILD_MANIFEST_INVALID');
  t.deepEqual(await s.readBytes({ digest, size: 2000 }, { max: 2000 }), big);
  const notJson = await s.writeBytes(Buffer.from('{"a":'));
  t.is((await t.throwsAsync(s.readJson(notJson)))?.constructor, LayerstoreError);
  t.deepEqual(await s.readJson(await s.writeBytes(Buffer.from('{"a":1}'))), { a: 1 });
});

test('delete removes a blob; deleting a missing one is fine', async (t) => {
  const s = await store(t);
  await s.writeBytes(DATA);
  await s.delete(DIGEST);
  await s.delete(DIGEST);
  t.false(await s.has(DIGEST));
  t.is(await s.size(DIGEST), undefined);
});

test('two processes writing the same blob at once both succeed, leaving one file (case 72)', async (t) => {
  const root = await tempDir(t);
  await new BlobStore(root).init();
  const module = new URL('./blobs.js', import.meta.url).href;
  const script = `
    const { BlobStore } = await import(${JSON.stringify(module)});
    const s = new BlobStore(process.argv[1]);
    async function* slow() {
      for (let i = 0; i < 64; i++) {
        yield Buffer.alloc(64 * 1024, i);
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    const res = await s.write(slow());
    process.stdout.write(JSON.stringify(res));
  `;
  const results = await Promise.all([0, 1].map(() => run(process.execPath, ['--input-type=module', '-e', script, root])));
  const parsed = results.map((r) => JSON.parse(r.stdout) as { digest: string; size: number; created: boolean });
  t.is(parsed[0]!.digest, parsed[1]!.digest);
  t.is(parsed[0]!.size, 64 * 64 * 1024);
  const s = new BlobStore(root);
  t.deepEqual(await readdir(s.dir), [parsed[0]!.digest.slice(7)]);
  t.deepEqual(await readdir(s.ingestDir), []);
  t.is((await readAll(await s.open({ digest: parsed[0]!.digest as `sha256:${string}`, size: parsed[0]!.size }))).length, parsed[0]!.size);
});

test('a digest that is not sha256:<64 hex> never becomes a path', async (t) => {
  const s = await store(t);
  for (const digest of ['sha256:../../etc/passwd', `sha256:${'A'.repeat(64)}`, `sha512:${'a'.repeat(128)}`]) {
    const err = await t.throwsAsync(s.open({ digest: digest as `sha256:${string}` }), { instanceOf: LayerstoreError });
    t.is(err?.code, 'TSBUILD_DIGEST_INVALID');
    t.is((await t.throwsAsync(s.writeBytes(DATA, { digest: digest as `sha256:${string}`, size: DATA.length })))?.constructor, LayerstoreError);
  }
});
