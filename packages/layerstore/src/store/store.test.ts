/**
 * Store: layout on open, crash recovery, images and names, snapshots of layers
 * (a layer whose diff_id lies never becomes a snapshot).
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { canonicalConfig } from '../image/canonical.js';
import { sha256, type Digest } from '../digest.js';
import { IntegrityError, LayerstoreError, NotFoundError, TarError } from '../errors.js';
import { MediaType } from '../image/media-types.js';
import { encodeHeader } from '../tar/index.js';
import { readTree, tempDir, withOverlay } from '../testing/fstree.js';
import { config, putLayers } from '../testing/image.js';
import { dir, file, hardlink, opaque, symlink, tarBytes, whiteout, type Piece } from '../testing/tarbuild.js';
import { writeRootfs } from '../export/rootfs.js';
import { Store } from './store.js';
import { chainIds } from './snapshots.js';
import { ensureSnapshots } from './unpack.js';

const LAYERS: Piece[][] = [
  [dir('etc'), file('etc/passwd', 'root'), dir('usr/lib'), symlink('lib', 'usr/lib'), dir('var'), dir('run'), symlink('var/run', '/run'), file('a/old', 'old')],
  [file('lib/x.so', 'x'), whiteout('etc/passwd'), file('var/run/pid', '1'), hardlink('usr/lib/y.so', '/lib/x.so')],
  [opaque('a'), file('a/new', 'new'), file('etc/passwd', 'again')],
];

async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

test('open makes an OCI layout and private folders', async (t) => {
  const root = join(await tempDir(t), 'store');
  const store = await Store.open(root);
  t.deepEqual((await readdir(root)).sort(), ['blobs', 'cache', 'index.json', 'ingest', 'locks', 'oci-layout', 'snapshots', 'tmp']);
  t.deepEqual(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  t.deepEqual(JSON.parse(await readFile(join(root, 'index.json'), 'utf8')).manifests, []);
  await Store.open(root);
  t.deepEqual(await store.tags.list(), []);
});

test('recover removes leftovers of dead processes only (cases 69, 74)', async (t) => {
  const root = join(await tempDir(t), 'store');
  const store = await Store.open(root);
  const dead = await exitedPid();
  const sleeper = spawn('sleep', ['30']);
  t.teardown(() => sleeper.kill());
  const live = sleeper.pid!;
  const chain = sha256('a chain');
  const make = async (path: string, isDir: boolean) => {
    if (isDir) {
      await mkdir(path);
      await writeFile(join(path, 'content'), 'x');
    } else await writeFile(path, 'x');
  };
  const gone = [join(store.blobs.ingestDir, `${dead}-aa`), join(store.snapshots.dir, `.new-${dead}-bb`), join(store.snapshots.dir, `.del-${dead}-cc`), join(store.tmpDir, `${dead}-dd`)];
  const kept = [
    join(store.blobs.ingestDir, `${live}-aa`),
    join(store.blobs.ingestDir, `${process.pid}-aa`),
    join(store.snapshots.dir, `.new-${live}-bb`),
    join(store.snapshots.dir, `.new-${process.pid}-bb`),
    join(store.snapshots.dir, chain.slice(7)),
    join(store.tmpDir, `${live}-dd`),
    join(store.tmpDir, 'unrelated'),
  ];
  for (const p of [...gone, ...kept]) await make(p, !p.includes('ingest'));
  await store.recover();
  const left = [...(await readdir(store.blobs.ingestDir)), ...(await readdir(store.snapshots.dir)), ...(await readdir(store.tmpDir))];
  t.deepEqual(left.sort(), kept.map((p) => p.split('/').pop()!).sort());
  t.true(await store.snapshots.has(chain));
});

test('putImage, tag and resolveImage by name, image ID prefix and manifest digest', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'store'));
  const one = await putLayers(store, LAYERS.slice(0, 1), { author: 'one' });
  const two = await putLayers(store, LAYERS.slice(0, 2), { author: 'two' });
  await store.tag(one, 'app:latest');
  await store.tag(two, 'localhost:5000/ns/app:2');
  await store.tag(two, 'other:latest');
  t.is(one.id, one.manifest.config.digest);
  t.is((await store.resolveImage('app')).id, one.id);
  t.is((await store.resolveImage('docker.io/library/app:latest')).id, one.id);
  t.is((await store.resolveImage('localhost:5000/ns/app:2')).id, two.id);
  t.is((await store.resolveImage(two.id)).id, two.id);
  t.is((await store.resolveImage(two.id.slice(7, 19))).id, two.id);
  t.is((await store.resolveImage(two.manifestDescriptor.digest)).id, two.id);
  const missing = await t.throwsAsync(store.resolveImage('nothere'), { instanceOf: NotFoundError });
  t.is(missing?.code, 'TSBUILD_IMAGE_NOT_FOUND');
  await t.throwsAsync(store.resolveImage(two.manifestDescriptor.digest.slice(0, 20)), { instanceOf: NotFoundError }, 'manifest digests only in full');
  const listing = await store.listImages();
  t.deepEqual(listing.map((l) => l.tags.sort()).sort(), [['app:latest'], ['localhost:5000/ns/app:2', 'other:latest']]);
  const reach = await store.reachable();
  t.true(reach.blobs.has(one.manifest.layers[0]!.digest));
  t.deepEqual([...reach.snapshots].sort(), [...new Set([...chainIds(one.config.rootfs.diff_ids), ...chainIds(two.config.rootfs.diff_ids)])].sort());
});

test('an image ID prefix matching two images is ambiguous', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'store'));
  const diffId = (await store.blobs.writeBytes(tarBytes([file('f')]))).digest;
  const seen = new Map<string, number>();
  let pair: [number, number] | undefined;
  for (let i = 0; !pair; i++) {
    const prefix = sha256(JSON.stringify(canonicalConfig(config([diffId], { author: String(i) })))).slice(7, 11);
    const j = seen.get(prefix);
    if (j !== undefined) pair = [j, i];
    seen.set(prefix, i);
  }
  const layer = { mediaType: MediaType.ociLayer, digest: diffId, size: (await store.blobs.size(diffId))! };
  const [a, b] = await Promise.all(pair.map((i) => store.putImage(config([diffId], { author: String(i) }), [layer])));
  t.is(a!.id.slice(7, 11), b!.id.slice(7, 11));
  await store.tag(a!, 'a:latest');
  await store.tag(b!, 'b:latest');
  const err = await t.throwsAsync(store.resolveImage(a!.id.slice(7, 11)), { instanceOf: LayerstoreError });
  t.is(err?.code, 'TSBUILD_REFERENCE_INVALID');
  t.is((await store.resolveImage(a!.id.slice(7, 30))).id, a!.id);
});

test('ensureSnapshots unpacks each layer once over the ones below; mounted, they show the flattened image', async (t) => {
  const base = await tempDir(t);
  const store = await Store.open(join(base, 'store'));
  const image = await putLayers(store, LAYERS);
  const unpacked: number[] = [];
  const dirs = await ensureSnapshots(store, image.manifest.layers, image.config.rootfs.diff_ids, { onUnpack: (_, i) => unpacked.push(i) });
  t.deepEqual(unpacked, [0, 1, 2]);
  t.deepEqual(dirs, chainIds(image.config.rootfs.diff_ids).map((c) => store.snapshots.path(c)));
  t.deepEqual(await ensureSnapshots(store, image.manifest.layers, image.config.rootfs.diff_ids, { onUnpack: () => t.fail('unpacked again') }), dirs);
  t.false((await readdir(store.snapshots.dir)).some((n) => n.startsWith('.')));

  const flat = join(base, 'flat');
  await writeRootfs(store, image, flat);
  const want = await readTree(flat);
  const lowers = [...dirs].reverse();
  await mkdir(join(base, 'empty'));
  const got = await withOverlay({ lowers: [...lowers.slice(1), join(base, 'empty')], upper: lowers[0]!, work: join(base, 'work'), merged: join(base, 'merged') }, (m) => readTree(m));
  delete want[''];
  delete got[''];
  t.deepEqual(got, want);
  t.is(await readFile(join(flat, 'etc/passwd'), 'utf8'), 'again');
  t.deepEqual((await readdir(join(flat, 'a'))).sort(), ['new']);
  t.deepEqual(want['usr/lib/x.so']?.links, ['usr/lib/x.so', 'usr/lib/y.so']);
});

test('a truncated layer or a wrong diff_id commits no snapshot (cases 44, 57)', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'store'));
  const good = await putLayers(store, LAYERS.slice(0, 1));
  const head = encodeHeader({ name: Buffer.from('big'), type: 'file', mode: 0o644, uid: 0, gid: 0, size: 10 * 1024 ** 3, mtime: 0 });
  const truncated = Buffer.concat([tarBytes([file('first', 'x')], { end: false }), head, Buffer.alloc(1 << 20)]);
  const bad = await store.blobs.writeBytes(truncated);
  const layers = [good.manifest.layers[0]!, { mediaType: MediaType.ociLayer, digest: bad.digest, size: bad.size }];
  const before = await readdir(store.snapshots.dir);

  const err = await t.throwsAsync(ensureSnapshots(store, layers, [good.config.rootfs.diff_ids[0]!, bad.digest]), { instanceOf: TarError });
  t.regex(err?.message ?? '', /unexpected EOF/);
  const after = await readdir(store.snapshots.dir);
  t.deepEqual(after.sort(), [...before, chainIds([good.config.rootfs.diff_ids[0]!])[0]!.slice(7)].sort(), 'only the good layer');

  const wrong = sha256('not this layer') as Digest;
  const other = await store.blobs.writeBytes(tarBytes([file('other')]));
  const otherLayer = { mediaType: MediaType.ociLayer, digest: other.digest, size: other.size };
  const mismatch = await t.throwsAsync(ensureSnapshots(store, [layers[0]!, otherLayer], [good.config.rootfs.diff_ids[0]!, wrong]), { instanceOf: IntegrityError });
  t.is(mismatch?.code, 'TSBUILD_DIGEST_MISMATCH');
  t.deepEqual((await readdir(store.snapshots.dir)).sort(), after.sort());
  await t.throwsAsync(ensureSnapshots(store, layers, []), { instanceOf: LayerstoreError, message: /2 layers but 0 diff_ids/ });
});

test('snapshots: commit renames into place; a second commit of the same chain is discarded; abort and remove clean up', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'store'));
  const chain = sha256('chain');
  const committed: string[] = [];
  store.snapshots.onCommit.add((c) => committed.push(c));
  const a = await store.snapshots.prepare();
  const b = await store.snapshots.prepare();
  await writeFile(join(a.path, 'who'), 'a');
  await writeFile(join(b.path, 'who'), 'b');
  t.is(await a.commit(chain), store.snapshots.path(chain));
  t.is(await b.commit(chain), store.snapshots.path(chain));
  t.is(await readFile(join(store.snapshots.path(chain), 'who'), 'utf8'), 'a');
  t.deepEqual(committed, [chain]);
  const c = await store.snapshots.prepare();
  await c.abort();
  await c.abort();
  t.deepEqual(await readdir(store.snapshots.dir), [chain.slice(7)]);
  t.deepEqual(await store.snapshots.list(), [chain]);
  await store.snapshots.remove(chain);
  await store.snapshots.remove(chain);
  t.deepEqual(await readdir(store.snapshots.dir), []);
  t.false(await store.snapshots.has(chain));
});

test('a commit that fails leaves the prepared snapshot for abort() to remove', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'store'));
  const chain = sha256('blocked');
  await writeFile(store.snapshots.path(chain), 'a file where the snapshot should go');
  const snap = await store.snapshots.prepare();
  const err = await t.throwsAsync(snap.commit(chain), { instanceOf: LayerstoreError });
  t.is(err?.code, 'TSBUILD_STORE_IO');
  await snap.abort();
  t.deepEqual(await readdir(store.snapshots.dir), [chain.slice(7)]);
});
