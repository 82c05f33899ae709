/**
 * The TagStore conformance suite (store/tag-store.ts): every implementation registers
 * it with a factory for an empty tag store, and must pass all of it.
 */
import type { ExecutionContext, TestFn } from 'ava';
import { sha256 } from '../digest.js';
import { MediaType } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import type { TagStore } from '../store/tag-store.js';

export interface TagSuiteOptions {
  /** A fresh, empty tag store for one test. */
  make(t: ExecutionContext): Promise<TagStore>;
}

const manifest = (seed: string): Descriptor => ({ mediaType: MediaType.ociManifest, digest: sha256(seed), size: seed.length });

export function tagStoreSuite(test: TestFn, name: string, opts: TagSuiteOptions): void {
  const title = (s: string) => `tag store (${name}): ${s}`;

  test(title('a name points at a manifest, moves when set again, and is gone once removed'), async (t) => {
    const tags = await opts.make(t);
    const [a, b] = [manifest('a'), manifest('b')];
    t.is(await tags.get('app:1'), undefined);
    await tags.set('app:1', a);
    t.is((await tags.get('app:1'))?.digest, a.digest);
    await tags.set('app:1', b);
    t.is((await tags.get('app:1'))?.digest, b.digest);
    t.deepEqual((await tags.list()).map((x) => x.name), ['app:1']);
    t.true(await tags.remove('app:1'));
    t.false(await tags.remove('app:1'));
    t.deepEqual(await tags.list(), []);
  });

  test(title('tags are listed by name, each with its manifest'), async (t) => {
    const tags = await opts.make(t);
    for (const n of ['b:1', 'a:2', 'a:1']) await tags.set(n, manifest(n));
    const list = await tags.list();
    t.deepEqual(list.map((x) => x.name), ['a:1', 'a:2', 'b:1']);
    t.true(list.every((x) => x.descriptor.digest === sha256(x.name)));
  });

  test(title('an unnamed image is kept until a name points at it or the unnamed are removed'), async (t) => {
    const tags = await opts.make(t);
    const [a, b, c] = [manifest('a'), manifest('b'), manifest('c')];
    await tags.addUnnamed(a);
    await tags.addUnnamed(a);
    t.deepEqual((await tags.unnamed()).map((d) => d.digest), [a.digest], 'recorded once');
    await tags.set('app:1', a);
    t.deepEqual(await tags.unnamed(), [], 'a tag takes it out of the unnamed');
    await tags.addUnnamed(a);
    t.deepEqual(await tags.unnamed(), [], 'nothing happens when a tag points at it');
    await tags.addUnnamed(b);
    await tags.addUnnamed(c, { replacing: b });
    t.deepEqual((await tags.unnamed()).map((d) => d.digest), [c.digest], 'c took b\'s place');
    t.is(await tags.removeUnnamed(), 1);
    t.deepEqual(await tags.unnamed(), []);
    t.is((await tags.get('app:1'))?.digest, a.digest, 'tags survive');
  });

  test(title('concurrent updates lose nothing'), async (t) => {
    const tags = await opts.make(t);
    const names = Array.from({ length: 12 }, (_, i) => `app:${i}`);
    await Promise.all([...names.map((n) => tags.set(n, manifest(n))), tags.addUnnamed(manifest('x'))]);
    t.deepEqual((await tags.list()).map((x) => x.name).sort(), [...names].sort());
    t.is((await tags.unnamed()).length, 1);
  });
}
