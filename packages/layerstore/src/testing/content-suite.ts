/**
 * The ContentStore conformance suite (store/content.ts), in the shape of containerd's
 * content testsuite: every implementation registers it with a factory for empty stores
 * and a way to corrupt a committed blob, and must pass all of it.
 *
 *   contentStoreSuite(test, 'filesystem', { make: async (t) => ..., corrupt: async (s, d) => ... });
 */
import { Readable } from 'node:stream';
import type { ExecutionContext, TestFn } from 'ava';
import { sha256, type Digest } from '../digest.js';
import { IntegrityError, LayerstoreError, NotFoundError } from '../errors.js';
import type { ContentStore } from '../store/content.js';

export interface ContentSuiteOptions<S extends ContentStore> {
  /** A fresh, empty store for one test. */
  make(t: ExecutionContext): Promise<S>;
  /** Change the bytes of a committed blob behind the store's back (same length). */
  corrupt(store: S, digest: Digest): Promise<void>;
}

const DATA = Buffer.from('some blob content\n'.repeat(100));
const DIGEST = sha256(DATA);

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function listed(s: ContentStore): Promise<Digest[]> {
  const out: Digest[] = [];
  for await (const d of s.list()) out.push(d);
  return out.sort();
}

export function contentStoreSuite<S extends ContentStore>(test: TestFn, name: string, opts: ContentSuiteOptions<S>): void {
  const t$ = (title: string, fn: (t: ExecutionContext, s: S) => Promise<void>) => test(`content store (${name}): ${title}`, async (t) => fn(t, await opts.make(t)));

  t$('a write commits the bytes under their digest; stat, list and read agree', async (t, s) => {
    t.false(await s.has(DIGEST));
    t.deepEqual(await s.write([DATA.subarray(0, 7), DATA.subarray(7)]), { digest: DIGEST, size: DATA.length, created: true });
    t.true(await s.has(DIGEST));
    t.is(await s.size(DIGEST), DATA.length);
    t.deepEqual(await listed(s), [DIGEST]);
    t.deepEqual(await readAll(await s.open({ digest: DIGEST, size: DATA.length })), DATA);
    t.deepEqual(await readAll(await s.open({ digest: DIGEST })), DATA);
  });

  t$('writing a committed blob again succeeds without creating it; with digest and size the source is not read', async (t, s) => {
    await s.write([DATA]);
    t.deepEqual(await s.write([DATA]), { digest: DIGEST, size: DATA.length, created: false });
    const unread = new Readable({
      read() {
        this.destroy(new Error('should not be read'));
      },
    });
    t.deepEqual(await s.write(unread, { digest: DIGEST, size: DATA.length }), { digest: DIGEST, size: DATA.length, created: false });
  });

  t$('a wrong size or digest fails with IntegrityError naming the blob, and leaves it absent', async (t, s) => {
    const short = await t.throwsAsync(s.write([DATA], { digest: DIGEST, size: DATA.length + 1 }), { instanceOf: IntegrityError });
    t.is(short?.code, 'TSBUILD_SIZE_MISMATCH');
    const long = await t.throwsAsync(s.write([DATA, DATA], { digest: DIGEST, size: DATA.length, what: 'layer 1 of x' }), { instanceOf: IntegrityError });
    t.is(long?.code, 'TSBUILD_SIZE_MISMATCH');
    t.regex(long?.message ?? '', /^layer 1 of x: size mismatch/);
    const other = sha256('other');
    const wrong = await t.throwsAsync(s.write([DATA], { digest: other }), { instanceOf: IntegrityError });
    t.is(wrong?.code, 'TSBUILD_DIGEST_MISMATCH');
    t.is(wrong?.expected, other);
    t.is(wrong?.actual, DIGEST);
    t.false(await s.has(DIGEST));
    t.false(await s.has(other));
    t.deepEqual(await listed(s), []);
  });

  t$('a source that fails mid-stream fails the write with a typed error and commits nothing', async (t, s) => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield DATA;
      throw new Error('connection reset');
    }
    const err = await t.throwsAsync(s.write(failing()), { instanceOf: LayerstoreError });
    t.regex(err?.message ?? '', /connection reset/);
    t.deepEqual(await listed(s), []);
  });

  t$('an absent blob: open is NotFoundError, size undefined; delete removes, and deleting again is no error', async (t, s) => {
    const missing = await t.throwsAsync(s.open({ digest: DIGEST }, 'config'), { instanceOf: NotFoundError });
    t.is(missing?.code, 'TSBUILD_BLOB_NOT_FOUND');
    t.regex(missing?.message ?? '', /^config sha256:/);
    t.is(await s.size(DIGEST), undefined);
    await s.write([DATA]);
    await s.delete(DIGEST);
    t.false(await s.has(DIGEST));
    await s.delete(DIGEST);
    await t.throwsAsync(s.open({ digest: DIGEST }), { instanceOf: NotFoundError });
  });

  t$('reads are verified: changed bytes or a wrong size fail the read with IntegrityError', async (t, s) => {
    await s.write([DATA]);
    const tooShort = await t.throwsAsync(readAll(await s.open({ digest: DIGEST, size: DATA.length - 1 })), { instanceOf: IntegrityError });
    t.is(tooShort?.code, 'TSBUILD_SIZE_MISMATCH');
    await opts.corrupt(s, DIGEST);
    const bad = await t.throwsAsync(readAll(await s.open({ digest: DIGEST, size: DATA.length })), { instanceOf: IntegrityError });
    t.is(bad?.code, 'TSBUILD_DIGEST_MISMATCH');
  });

  t$('concurrent writes of the same bytes all succeed and leave one blob', async (t, s) => {
    const results = await Promise.all([1, 2, 3, 4].map(() => s.write([DATA.subarray(0, 100), DATA.subarray(100)])));
    t.true(results.every((r) => r.digest === DIGEST && r.size === DATA.length));
    t.true(results.some((r) => r.created), 'some writer created it');
    t.deepEqual(await listed(s), [DIGEST]);
    t.deepEqual(await readAll(await s.open({ digest: DIGEST })), DATA);
  });
}
