/**
 * What a pull and a push tell about the store, against a real docker-registry: whether a
 * pull changed anything (docker's "Downloaded newer image" vs "Image is up to date"), and
 * the repository digests (docker's RepoDigests) both record.
 */
import test from 'ava';
import { parseReference } from '../reference.js';
import { prune } from '../store/gc.js';
import { repoDigests } from '../store/repo-digests.js';
import { Store } from '../store/store.js';
import { AMD64, makeImage, testClient, testStore } from './testing/fixtures.js';
import { fileRegistry } from './testing/registry-server.js';

const registry = fileRegistry(test);

test('a pull says whether it changed the store: new blobs or a new tag, else up to date', async (t) => {
  const a = await testStore(t);
  const b = await testStore(t);
  const c = testClient(t);
  const image = await makeImage(a.store);
  await c.push(a.store, image, parseReference(`${registry.host}/report/app:1`));
  await c.push(a.store, image, parseReference(`${registry.host}/report/other:1`));
  const app = parseReference(`${registry.host}/report/app:1`);

  t.true((await c.pull(b.store, app, { platform: AMD64 })).updated, 'a store that lacked the image');
  t.false((await c.pull(b.store, app, { platform: AMD64 })).updated, 'the same tag again: up to date');
  t.true((await c.pull(b.store, parseReference(`${registry.host}/report/other:1`), { platform: AMD64 })).updated, 'every blob was there, but the tag is new');
  await b.store.tags.remove(`${registry.host}/report/app:1`);
  t.true((await c.pull(b.store, app, { platform: AMD64 })).updated, 'the tag had been removed');
  const byDigest = await c.pull(b.store, parseReference(`${registry.host}/report/app:1`), { platform: AMD64, tag: false });
  t.false(byDigest.updated, 'without tagging, and with every blob there: nothing changed');
});

test('pull and push record the repository digests of the image, like docker RepoDigests; prune drops them with the image', async (t) => {
  const a = await testStore(t);
  const b = await testStore(t);
  const c = testClient(t);
  const image = await makeImage(a.store);
  t.deepEqual(await repoDigests(a.store, image.id), []);
  const first = await c.push(a.store, image, parseReference(`${registry.host}/report/digests:1`));
  t.deepEqual(await repoDigests(a.store, image.id), [`${registry.host}/report/digests@${first.digest}`]);
  await c.push(a.store, image, parseReference(`${registry.host}/report/digests:2`));
  t.deepEqual(await repoDigests(a.store, image.id), [`${registry.host}/report/digests@${first.digest}`], 'one entry per repository and digest, whatever the tag');
  const zstd = await c.push(a.store, image, parseReference(`${registry.host}/report/digests:zstd`), { compression: 'zstd' });
  t.not(zstd.digest, first.digest);
  t.deepEqual(await repoDigests(a.store, image.id), [`${registry.host}/report/digests@${zstd.digest}`, `${registry.host}/report/digests@${first.digest}`]);

  const pulled = await c.pull(b.store, parseReference(`${registry.host}/report/digests:1`), { platform: AMD64 });
  t.is(pulled.image.id, image.id);
  t.deepEqual(await repoDigests(b.store, image.id), [`${registry.host}/report/digests@${first.digest}`]);

  await b.store.tags.remove(`${registry.host}/report/digests:1`);
  await b.store.close(); // its lease holds what it pulled
  const later = await Store.open(b.root);
  t.teardown(() => later.close());
  await prune(later);
  t.false(await later.blobs.has(image.id));
  t.deepEqual(await repoDigests(later, image.id), [], 'not a root: gone with the image');
});
