/**
 * JSON documents from outside, malformed in shape rather than syntax, through the real
 * readers: OCI layouts and archives (`index.json` of `null`, `"manifests": [null]`, a
 * manifest or config blob of the wrong shape), docker-archives, and the store's own
 * `index.json` and records. Each ends in a LayerstoreError naming the document, and a
 * failed import leaves the store as it was.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { sha256 } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { writeOciLayout } from '../export/oci.js';
import { MediaType } from '../image/media-types.js';
import { Store } from '../store/store.js';
import { tempDir } from '../testing/fstree.js';
import { putLayers } from '../testing/image.js';
import { file, tarBytes, type Piece } from '../testing/tarbuild.js';
import { importOciArchive, importOciLayout } from './import.js';
import { loadArchive } from './load.js';

const PLATFORM = { os: 'linux', architecture: 'amd64' };
const LAYOUT = '{"imageLayoutVersion":"1.0.0"}';

async function store(t: ExecutionContext): Promise<Store> {
  return Store.open(join(await tempDir(t), 'store'));
}

async function blobNames(s: Store): Promise<string[]> {
  return (await readdir(s.blobs.dir)).sort();
}

/** An OCI layout holding `blobs` (each stored under its digest) and this index.json text. */
async function layout(t: ExecutionContext, indexJson: string, blobs: string[] = []): Promise<string> {
  const dir = join(await tempDir(t), 'layout');
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), LAYOUT);
  await writeFile(join(dir, 'index.json'), indexJson);
  for (const b of blobs) await writeFile(join(dir, 'blobs', 'sha256', sha256(b).slice(7)), b);
  return dir;
}

function archivePieces(indexJson: string, blobs: string[] = []): Piece[] {
  return [file('oci-layout', LAYOUT), file('index.json', indexJson), ...blobs.map((b) => file(`blobs/sha256/${sha256(b).slice(7)}`, b))];
}

const descriptorOf = (mediaType: string, text: string) => ({ mediaType, digest: sha256(text), size: Buffer.byteLength(text) });
const indexOf = (...manifests: unknown[]) => JSON.stringify({ schemaVersion: 2, manifests });

/** [case, index.json, blobs, what the message must say] */
function cases(): Array<[string, string, string[], RegExp]> {
  const nullManifest = 'null';
  const envString = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Env: 'A=b' } });
  const manifestWith = (config: string) => JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: descriptorOf(MediaType.ociConfig, config), layers: [] });
  const badConfigManifest = manifestWith(envString);
  const nullConfigManifest = manifestWith('null');
  return [
    ['index.json of null', 'null', [], /index\.json: not a JSON object/],
    ['"manifests": [null]', '{"schemaVersion":2,"manifests":[null]}', [], /index\.json: manifests\[0\] is not a descriptor/],
    ['"manifests": null', '{"schemaVersion":2,"manifests":null}', [], /index\.json: "manifests" is not a list/],
    ['nested too deep', `{"schemaVersion":2,"manifests":[],"x":${'['.repeat(5000)}${']'.repeat(5000)}}`, [], /index\.json: JSON nested more than 256 deep/],
    ['a manifest blob of null', indexOf(descriptorOf(MediaType.ociManifest, nullManifest)), [nullManifest], /manifest sha256:[0-9a-f]{64}: not a JSON object/],
    ['a nested index of null', indexOf(descriptorOf(MediaType.ociIndex, nullManifest)), [nullManifest], /index sha256:[0-9a-f]{64}: not a JSON object/],
    ['a config whose Env is a string', indexOf(descriptorOf(MediaType.ociManifest, badConfigManifest)), [badConfigManifest, envString], /config\.Env is not a list of strings/],
    ['a config of null', indexOf(descriptorOf(MediaType.ociManifest, nullConfigManifest)), [nullConfigManifest, 'null'], /config sha256:[0-9a-f]{64}: not a JSON object/],
  ];
}

for (const [name, indexJson, blobs, message] of cases()) {
  test(`OCI layout, OCI archive, load: ${name}`, async (t) => {
    const s = await store(t);
    const before = await blobNames(s);
    const dir = await layout(t, indexJson, blobs);
    const archive = join(dir, '..', 'image.tar');
    await writeFile(archive, tarBytes(archivePieces(indexJson, blobs)));
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['layout', () => importOciLayout(s, dir, { platform: PLATFORM })],
      ['archive', () => importOciArchive(s, archive, { platform: PLATFORM })],
      ['load', () => loadArchive(s, Readable.from([tarBytes(archivePieces(indexJson, blobs))]), { where: 'archive x', platform: PLATFORM })],
    ];
    for (const [how, attempt] of attempts) {
      const err = await t.throwsAsync(attempt(), { instanceOf: LayerstoreError }, how);
      t.is(err?.code, 'TSBUILD_MANIFEST_INVALID', how);
      t.regex(err?.message ?? '', message, how);
    }
    t.deepEqual(await blobNames(s), before, 'nothing stays');
  });
}

test('docker-archive: an index.json beside manifest.json is only a hint, a bad one is passed over', async (t) => {
  const source = await store(t);
  const image = await putLayers(source, [[file('a', 'x')]]);
  const out = join(await tempDir(t), 'layout');
  await writeOciLayout(source, out, [{ image, names: ['app:1'] }]);
  const config = JSON.stringify(image.config);
  const layer = image.manifest.layers[0]!;
  const layerBytes = await source.blobs.readBytes(layer, { max: 1 << 20 });
  const manifestJson = JSON.stringify([{ Config: `${image.id.slice(7)}.json`, RepoTags: ['app:1'], Layers: ['layer.tar'] }]);
  for (const index of ['null', '{"schemaVersion":2,"manifests":[null]}', '{"manifests":7}']) {
    const s = await store(t);
    const pieces = [file('manifest.json', manifestJson), file(`${image.id.slice(7)}.json`, config), file('layer.tar', layerBytes), file('index.json', index)];
    const res = await loadArchive(s, Readable.from([tarBytes(pieces)]), { where: 'archive d', platform: PLATFORM });
    t.is(res.images[0]?.image.id, image.id, index);
  }
  const s = await store(t);
  const nulls = [file('manifest.json', '[null]')];
  await t.throwsAsync(loadArchive(s, Readable.from([tarBytes(nulls)]), { where: 'archive d', platform: PLATFORM }), { code: 'TSBUILD_MANIFEST_INVALID', message: /entry 0 has no Config/ } as never);
});

test("the store's own index.json and records: typed errors, or a record read as missing", async (t) => {
  const s = await store(t);
  for (const text of ['null', '{"schemaVersion":2,"manifests":[null]}', '{"schemaVersion":2,"manifests":[{"digest":"sha256:../../x"}]}']) {
    await writeFile(join(s.root, 'index.json'), text);
    const err = await t.throwsAsync(s.tags.list(), { instanceOf: LayerstoreError }, text);
    t.is(err?.code, 'TSBUILD_MANIFEST_INVALID');
    t.regex(err?.message ?? '', /index\.json: /);
  }
  await writeFile(join(s.root, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
  await mkdir(join(s.cacheDir, 'steps'), { recursive: true });
  for (const [key, text] of [['a', 'null'], ['b', '[1]'], ['c', '{"holds":{"blobs":5}}'], ['d', '{'], ['e', '{"holds":{"blobs":[null]}}']] as const) {
    await writeFile(join(s.cacheDir, 'steps', key), text);
  }
  t.is(await s.readRecord('steps', 'a'), undefined);
  t.is(await s.readRecord('steps', 'b'), undefined);
  t.deepEqual(await s.readRecord('steps', 'c'), { holds: { blobs: 5 } }, 'no check asked for: any object');
  t.is(await s.readRecord('steps', 'd'), undefined);
  const held = sha256('held');
  await writeFile(join(s.cacheDir, 'steps', 'f'), JSON.stringify({ holds: { blobs: [null, held, 7], snapshots: 'x' } }));
  // Written through the kind's store, which registers it as holding content (a GC root).
  await s.records<object>('steps', { holdsContent: true }).put('g', { holds: { blobs: [null, held] } });
  const reachable = await s.reachable();
  t.deepEqual([...reachable.blobs], [held], 'only digests are held; malformed records break nothing');
  t.is(reachable.snapshots.size, 0);
});
