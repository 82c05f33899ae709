/**
 * Property tests of the tar reader (fast-check; see testing/property.ts for the run
 * count, the seed and the per-case bound): archives written by tar-stream (another
 * implementation) and by our writer read back to the entries written, however the input
 * is chunked; any edit of a valid archive (bytes set, cut, inserted) and any bytes at all
 * end in entries or a TarError, never another exception or a hang.
 */
import test from 'ava';
import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import tarStream from 'tar-stream';
import { bounded, outcomeAsync, propertyParameters, Tally } from '../testing/property.js';
import { LayerstoreError, TarError } from '../errors.js';
import type { TarEntryType, TarHeader } from './header.js';
import { archive, chunked, readAll } from './test-helpers.js';
import type { TarWriteEntry } from './writer.js';

const tarCode = (err: unknown): string | undefined => (err instanceof TarError ? err.code : undefined);

/** Path-like text: segments of a small alphabet (multi-byte characters too), sometimes long. */
const segment = fc.stringMatching(/^[a-z0-9._é☃-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const pathText = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/')),
  fc.tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.integer({ min: 90, max: 300 })).map(([parts, n]) => `${parts.join('/')}/${'x'.repeat(n)}`),
);

interface Model {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname?: string;
  body: Buffer;
}

const model: fc.Arbitrary<Model> = fc.record({
  name: pathText,
  type: fc.constantFrom<Model['type']>('file', 'directory', 'symlink', 'link'),
  mode: fc.integer({ min: 1, max: 0o7777 }),
  uid: fc.integer({ min: 0, max: 0o777777 }),
  gid: fc.integer({ min: 0, max: 0o777777 }),
  mtime: fc.integer({ min: 0, max: 2 ** 31 - 1 }), // tar-stream writes mtime as a 32-bit int
  linkname: pathText,
  body: fc.uint8Array({ maxLength: 1500 }).map((a) => Buffer.from(a)),
}).map((m) => ({
  ...m,
  ...(m.type === 'symlink' || m.type === 'link' ? {} : { linkname: undefined }),
  body: m.type === 'file' ? m.body : Buffer.alloc(0),
}));

/** Chunk sizes to cut an input into (cycled). */
const chunks = fc.array(fc.integer({ min: 1, max: 1100 }), { minLength: 1, maxLength: 5 });

async function tarStreamArchive(entries: Model[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) {
    pack.entry(
      { name: e.name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: new Date(e.mtime * 1000), size: e.body.length, ...(e.linkname === undefined ? {} : { linkname: e.linkname }) },
      e.body,
    );
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

test('an archive tar-stream writes reads back to its entries, however it is chunked', async (t) => {
  t.plan(0);
  await fc.assert(
    fc.asyncProperty(
      fc.array(model, { maxLength: 6 }),
      chunks,
      bounded(async (entries: Model[], sizes: number[]) => {
        const read = await readAll(chunked(await tarStreamArchive(entries), sizes));
        const got = read.map(({ header, body }) => ({
          name: header.name.toString(),
          type: header.type,
          mode: header.mode,
          uid: header.uid,
          gid: header.gid,
          mtime: header.mtime,
          ...(header.linkname === undefined ? {} : { linkname: header.linkname.toString() }),
          body,
        }));
        const want = entries.map(({ linkname, ...e }) => (linkname === undefined ? e : { ...e, linkname }));
        deepStrictEqual(got, want);
      }),
    ),
    propertyParameters(),
  );
});

/** Headers our writer takes: any name bytes but NUL, binary xattrs, numbers past ustar's fields. */
const header: fc.Arbitrary<TarWriteEntry> = fc
  .record({
    name: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a.map((x) => x || 0x61))),
    type: fc.constantFrom<TarEntryType>('file', 'link', 'symlink', 'char', 'block', 'directory', 'fifo'),
    mode: fc.integer({ min: 0, max: 0o7777 }),
    uid: fc.oneof(fc.integer({ min: 0, max: 0o7777777 }), fc.integer({ min: 0, max: 2 ** 40 })),
    gid: fc.integer({ min: 0, max: 2 ** 32 }),
    mtime: fc.integer({ min: -(2 ** 34), max: 2 ** 34 }),
    linkname: fc.uint8Array({ minLength: 1, maxLength: 200 }).map((a) => Buffer.from(a.map((x) => x || 0x62))),
    dev: fc.tuple(fc.integer({ min: 0, max: 0o7777777 }), fc.integer({ min: 0, max: 0o7777777 })),
    xattrs: fc.array(fc.tuple(fc.stringMatching(/^[a-z.]{1,10}$/), fc.uint8Array({ maxLength: 40 })), { maxLength: 3 }),
    body: fc.uint8Array({ maxLength: 1100 }),
  })
  .map((r) => {
    const h: TarHeader = { name: r.name, type: r.type, mode: r.mode, uid: r.uid, gid: r.gid, size: 0, mtime: r.mtime };
    if (r.type === 'link' || r.type === 'symlink') h.linkname = r.linkname;
    if (r.type === 'char' || r.type === 'block') [h.devmajor, h.devminor] = r.dev;
    if (r.xattrs.length > 0) h.xattrs = new Map(r.xattrs.map(([k, v]) => [`user.${k}`, Buffer.from(v)] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))); // PAX records are sorted by key
    if (r.type !== 'file') return { header: h };
    const body = Buffer.from(r.body);
    return { header: { ...h, size: body.length }, body };
  });

test('an archive our writer writes reads back to the same headers and bodies', async (t) => {
  t.plan(0);
  await fc.assert(
    fc.asyncProperty(
      fc.array(header, { maxLength: 5 }),
      chunks,
      bounded(async (entries: TarWriteEntry[], sizes: number[]) => {
        const read = await readAll(chunked(await archive(entries), sizes));
        deepStrictEqual(
          read.map((e) => e.header),
          entries.map((e) => e.header),
        );
        deepStrictEqual(
          read.map((e) => e.body),
          entries.map((e) => (Buffer.isBuffer(e.body) ? e.body : Buffer.alloc(0))),
        );
      }),
    ),
    propertyParameters(),
  );
});

type Edit = { kind: 'set'; at: number; byte: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 600 }) }),
);

function applyEdits(tar: Buffer, edits: Edit[]): Buffer {
  let out = Buffer.from(tar);
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % out.length;
    if (e.kind === 'set') {
      if (out.length > 0) out[at] = e.byte;
    } else if (e.kind === 'cut') out = out.subarray(0, at);
    else out = Buffer.concat([out.subarray(0, at), e.bytes, out.subarray(at)]);
  }
  return out;
}

const tally = new Tally();

test('an edited archive reads to entries or a TarError', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(header, { minLength: 1, maxLength: 4 }),
      fc.array(edit, { minLength: 1, maxLength: 4 }),
      chunks,
      bounded(async (entries: TarWriteEntry[], edits: Edit[], sizes: number[]) => {
        const bytes = applyEdits(await archive(entries), edits);
        tally.add(await outcomeAsync(() => readAll(chunked(bytes, sizes), { maxPaxSize: 4096 }), tarCode));
      }),
    ),
    propertyParameters(),
  );
  t.log(`edited archives: ${tally}`);
  t.true(tally.has('ok') && tally.has('TSBUILD_TAR_INVALID'), String(tally));
});

test('any bytes read to entries or a TarError', async (t) => {
  const seen = new Tally();
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 2048 }),
      bounded(async (bytes: Uint8Array) => {
        seen.add(await outcomeAsync(() => readAll(Buffer.from(bytes)), tarCode));
      }),
    ),
    propertyParameters(),
  );
  t.log(`random bytes: ${seen}`);
  t.true(seen.has('TSBUILD_TAR_INVALID'));
  t.true(new TarError('TSBUILD_TAR_INVALID', 'x') instanceof LayerstoreError);
});
