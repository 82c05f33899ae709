/**
 * TagIndex: tags in index.json, updated under a cross-process lock.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { sha256 } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { MediaType } from '../image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor, type Index } from '../image/types.js';
import { tempDir } from '../testing/fstree.js';
import { TagIndex } from './tags.js';

const run = promisify(execFile);
const desc = (s: string): Descriptor => ({ mediaType: MediaType.ociManifest, digest: sha256(s), size: s.length });

test('set, get, list, replace and remove tags; index.json stays an OCI index', async (t) => {
  const root = await tempDir(t);
  const tags = new TagIndex(root, join(root, 'locks'));
  t.deepEqual(await tags.list(), [], 'no index.json yet');
  await tags.set('app:1', desc('one'));
  await tags.set('app:2', { ...desc('two'), annotations: { 'x.y': 'z' } });
  await tags.set('app:1', desc('three'));
  t.deepEqual(await tags.get('app:1'), { ...desc('three'), annotations: { [REF_NAME_ANNOTATION]: 'app:1' } });
  t.is((await tags.get('app:2'))?.annotations?.['x.y'], 'z');
  t.deepEqual((await tags.list()).map((x) => x.name), ['app:1', 'app:2']);
  const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as Index;
  t.is(index.schemaVersion, 2);
  t.is(index.mediaType, MediaType.ociIndex);
  t.is(index.manifests.length, 2);
  t.true(await tags.remove('app:1'));
  t.false(await tags.remove('app:1'));
  t.is(await tags.get('app:1'), undefined);
});

test('a corrupt index.json is an error, not an empty store', async (t) => {
  const root = await tempDir(t);
  const tags = new TagIndex(root, join(root, 'locks'));
  await writeFile(join(root, 'index.json'), '{"manifests": [{"digest": "sha256:../../etc"}]}');
  t.is((await t.throwsAsync(tags.list(), { instanceOf: LayerstoreError }))?.code, 'TSBUILD_MANIFEST_INVALID');
  await writeFile(join(root, 'index.json'), '{');
  t.is((await t.throwsAsync(tags.set('a', desc('a')), { instanceOf: LayerstoreError }))?.code, 'TSBUILD_MANIFEST_INVALID');
});

test('concurrent updates in one process lose nothing', async (t) => {
  const root = await tempDir(t);
  const tags = new TagIndex(root, join(root, 'locks'));
  await Promise.all(Array.from({ length: 30 }, (_, i) => tags.set(`t${i}`, desc(String(i)))));
  t.is((await tags.list()).length, 30);
});

test('two processes tagging 50 names each at once lose no tag', async (t) => {
  const root = await tempDir(t);
  const module = new URL('./tags.js', import.meta.url).href;
  const script = `
    const { TagIndex } = await import(${JSON.stringify(module)});
    const [root, who] = process.argv.slice(1);
    const tags = new TagIndex(root, root + '/locks');
    for (let i = 0; i < 50; i++) {
      await tags.set(who + '-' + i, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + String(i % 10).repeat(64), size: i });
    }
  `;
  await Promise.all(['a', 'b'].map((who) => run(process.execPath, ['--input-type=module', '-e', script, root, who])));
  const names = (await new TagIndex(root, join(root, 'locks')).list()).map((x) => x.name).sort();
  t.is(names.length, 100);
  t.deepEqual(names, [...['a', 'b'].flatMap((w) => Array.from({ length: 50 }, (_, i) => `${w}-${i}`))].sort());
});
