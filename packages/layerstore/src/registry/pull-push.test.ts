/**
 * Pull and push against a real docker-registry (no auth), checked by skopeo: OCI round
 * trips, a Docker schema 2 image pushed by skopeo, a multi-platform index, cross-repository
 * mounts, chunked uploads, and re-pulls that fetch nothing.
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, type Digest } from '../digest.js';
import { writeDockerArchive } from '../export/docker-archive.js';
import { MediaType } from '../image/media-types.js';
import type { Index } from '../image/types.js';
import { parseReference } from '../reference.js';
import type { RegistryError } from './errors.js';
import type { RegistryEvent } from './events.js';
import { tempDir } from '../testing/fstree.js';
import { AMD64, blobsIn, makeImage, skopeoCopy, tagsIn, testClient, testStore } from './testing/fixtures.js';
import { startProxy, type TestProxy } from './testing/proxy.js';
import { fileRegistry } from './testing/registry-server.js';

const registry = fileRegistry(test);
let proxy: TestProxy;

test.before(async () => {
  proxy = await startProxy({ host: '127.0.0.1', port: registry.port });
});

test.after.always(async () => {
  await proxy?.stop();
});

test('push, then skopeo copies it to an OCI layout with the same digest; pull back into another store', async (t) => {
  const a = await testStore(t);
  const b = await testStore(t);
  const c = testClient(t);
  const image = await makeImage(a.store, { layers: 3 });
  const pushed = await c.push(a.store, image, parseReference(`${registry.host}/rt/app:1`));
  t.true(pushed.image.manifest.layers.every((l) => l.mediaType === MediaType.ociLayerGzip), 'uncompressed layers were gzipped for the push');
  const dir = await tempDir(t);
  await skopeoCopy(`docker://${registry.host}/rt/app:1`, `oci:${dir}:app`);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as Index;
  t.is(index.manifests[0]!.digest, pushed.digest);

  const pulled = await c.pull(b.store, parseReference(`${registry.host}/rt/app:1`), { platform: AMD64 });
  t.is(pulled.digest, pushed.digest);
  t.is(pulled.source, registry.host);
  t.is(pulled.image.id, image.id, 'same config, same image ID');
  t.deepEqual(pulled.image.config.rootfs.diff_ids, image.config.rootfs.diff_ids);
  t.deepEqual(await tagsIn(b.store), [`${registry.host}/rt/app:1`]);

  // By digest: tagged with the digest, nothing fetched twice.
  const byDigest = await c.pull(b.store, parseReference(`${registry.host}/rt/app@${pushed.digest}`), { platform: AMD64 });
  t.is(byDigest.image.manifestDescriptor.digest, pushed.digest);
  t.true((await tagsIn(b.store)).includes(`${registry.host}/rt/app@${pushed.digest}`));
});

test('re-pull of an unchanged tag costs one HEAD and fetches no blob', async (t) => {
  const a = await testStore(t);
  const c = testClient(t);
  const image = await makeImage(a.store);
  await c.push(a.store, image, parseReference(`${proxy.host}/rt/again:1`));
  const b = await testStore(t);
  await c.pull(b.store, parseReference(`${proxy.host}/rt/again:1`), { platform: AMD64 });
  const before = proxy.log.length;
  const events: RegistryEvent[] = [];
  const c2 = testClient(t, { events });
  await c2.pull(b.store, parseReference(`${proxy.host}/rt/again:1`), { platform: AMD64 });
  const requests = proxy.log.slice(before).filter((r) => r.path.startsWith('/v2/rt/again/'));
  t.deepEqual(
    requests.map((r) => r.method),
    ['HEAD'],
  );
  t.true(events.filter((e) => e.type === 'blob').every((e) => e.type === 'blob' && e.status === 'exists'));
});

test('an image pushed by skopeo from a docker-archive (Docker schema 2) pulls, and pushes on with its digests', async (t) => {
  const a = await testStore(t);
  const b = await testStore(t);
  const c = testClient(t);
  const image = await makeImage(a.store, { layers: 2 });
  const dir = await tempDir(t);
  const archive = join(dir, 'image.tar');
  await writeDockerArchive(a.store, archive, [{ image, names: ['dock:1'] }]);
  await skopeoCopy(`docker-archive:${archive}`, `docker://${registry.host}/rt/dock:1`);
  const pulled = await c.pull(b.store, parseReference(`${registry.host}/rt/dock:1`), { platform: AMD64 });
  t.is(pulled.image.manifestDescriptor.mediaType, MediaType.dockerManifest);
  t.true(pulled.image.manifest.layers.every((l) => l.mediaType === MediaType.dockerLayerGzip));
  t.deepEqual(pulled.image.config.rootfs.diff_ids, image.config.rootfs.diff_ids);
  // The manifest is kept byte for byte: its digest is the registry's.
  const raw = await b.store.blobs.readBytes(pulled.image.manifestDescriptor);
  t.is(sha256(raw), pulled.digest);
  const pushed = await c.push(b.store, pulled.image, parseReference(`${registry.host}/rt/dock-copy:1`));
  t.is(pushed.digest, pulled.digest, 'a pulled Docker image is pushed unchanged');
});

test('multi-platform index: the requested platform is chosen; resolve reports both levels', async (t) => {
  const a = await testStore(t);
  const c = testClient(t);
  const amd = await makeImage(a.store, { layers: 1 });
  const arm = await makeImage(a.store, { layers: 1, extra: { architecture: 'arm64', variant: 'v8' } });
  const repo = `${registry.host}/rt/multi`;
  const pa = await c.push(a.store, amd, parseReference(`${repo}:amd64`));
  const pb = await c.push(a.store, arm, parseReference(`${repo}:arm64`));
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      { mediaType: MediaType.ociManifest, digest: pa.digest, size: pa.size, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: MediaType.ociManifest, digest: pb.digest, size: pb.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ],
  };
  const bytes = Buffer.from(JSON.stringify(index));
  const put = await fetch(`http://${registry.host}/v2/rt/multi/manifests/1`, { method: 'PUT', headers: { 'Content-Type': MediaType.ociIndex }, body: bytes });
  t.is(put.status, 201);

  const b = await testStore(t);
  const pulled = await c.pull(b.store, parseReference(`${repo}:1`), { platform: { os: 'linux', architecture: 'arm64' } });
  t.is(pulled.image.config.architecture, 'arm64');
  t.is(pulled.image.manifestDescriptor.digest, pb.digest);
  t.is(pulled.digest, sha256(bytes), 'the digest the tag resolved to is the index');
  t.false((await blobsIn(b.store)).has(amd.manifest.config.digest), 'nothing of the other platform was fetched');

  const resolved = await c.resolve(parseReference(`${repo}:1`), { platform: AMD64 });
  t.is(resolved.root.digest, sha256(bytes));
  t.is(resolved.root.mediaType, MediaType.ociIndex);
  t.is(resolved.manifest.digest, pa.digest);
  t.deepEqual(resolved.manifest.platform, { os: 'linux', architecture: 'amd64' });

  const err = await t.throwsAsync<RegistryError>(c.pull(b.store, parseReference(`${repo}:1`), { platform: { os: 'linux', architecture: 's390x' } }));
  t.is(err?.code, 'TSBUILD_IMAGE_NOT_FOUND');
  t.regex(err!.message, /s390x.*it has: linux\/amd64, linux\/arm64\/v8/);
  t.regex(err!.message, new RegExp(`pull ${registry.host}/rt/multi:1`));
});

test('cross-repository mount: a second push of the same image uploads nothing; a pulled image mounts from its source repo', async (t) => {
  const a = await testStore(t);
  const c = testClient(t);
  const image = await makeImage(a.store, { layers: 2 });
  await c.push(a.store, image, parseReference(`${proxy.host}/mount/one:1`));
  const start = proxy.log.length;
  const events: RegistryEvent[] = [];
  const c2 = testClient(t, { events });
  const second = await c2.push(a.store, image, parseReference(`${proxy.host}/mount/two:1`));
  const reqs = proxy.log.slice(start).filter((r) => r.path.startsWith('/v2/mount/two/'));
  t.is(reqs.filter((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/uploads/'))).length, 0, 'no blob upload');
  t.is(reqs.filter((r) => r.method === 'POST' && /mount=sha256:[a-f0-9]{64}&from=mount%2Fone/.test(r.path)).length, 3, 'config and 2 layers mounted');
  t.is(events.filter((e) => e.type === 'blob' && e.status === 'mounted').length, 3);

  // A store that pulled from mount/two knows where the blobs live and mounts them for mount/three.
  const b = await testStore(t);
  const pulled = await c2.pull(b.store, parseReference(`${proxy.host}/mount/two:1`), { platform: AMD64 });
  const mid = proxy.log.length;
  const third = await c2.push(b.store, pulled.image, parseReference(`${proxy.host}/mount/three:1`));
  t.is(third.digest, second.digest);
  const three = proxy.log.slice(mid).filter((r) => r.path.startsWith('/v2/mount/three/'));
  t.true(three.some((r) => r.method === 'POST' && r.path.includes('from=mount%2Ftwo')));
  t.false(three.some((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/uploads/'))));
});

test('large blobs go up in PATCH chunks with Content-Range, small ones in one PUT; skopeo reads the result', async (t) => {
  const a = await testStore(t);
  const c = testClient(t);
  const image = await makeImage(a.store, { layers: 1, size: 600 * 1024 });
  const start = proxy.log.length;
  const pushed = await c.push(a.store, image, parseReference(`${proxy.host}/rt/chunked:1`), { chunkSize: 256 * 1024 });
  const reqs = proxy.log.slice(start).filter((r) => r.path.startsWith('/v2/rt/chunked/'));
  const patches = reqs.filter((r) => r.method === 'PATCH');
  t.is(patches.length, 3, '600 KiB of random data gzips to ~600 KiB: three 256 KiB chunks');
  t.deepEqual(
    patches.map((p) => p.headers['content-range']?.split('-')[0]),
    ['0', String(256 * 1024), String(512 * 1024)],
  );
  t.true(reqs.some((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/') && r.path.includes('digest=')), 'the config went in one PUT');
  const dir = await tempDir(t);
  await skopeoCopy(`docker://${registry.host}/rt/chunked:1`, `oci:${dir}:x`);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as Index;
  t.is(index.manifests[0]!.digest, pushed.digest);
});

test('push by digest, and a digest that is not the image is refused', async (t) => {
  const a = await testStore(t);
  const c = testClient(t);
  const image = await makeImage(a.store, { layers: 1 });
  const gz = await c.push(a.store, image, parseReference(`${registry.host}/rt/bydigest:tmp`));
  const again = await c.push(a.store, gz.image, parseReference(`${registry.host}/rt/bydigest@${gz.digest}`));
  t.is(again.digest, gz.digest);
  const res = await fetch(`http://${registry.host}/v2/rt/bydigest/manifests/${gz.digest}`, { method: 'HEAD', headers: { Accept: MediaType.ociManifest } });
  t.is(res.status, 200);
  const wrong = `sha256:${'0'.repeat(64)}` as Digest;
  const err = await t.throwsAsync<RegistryError>(c.push(a.store, gz.image, parseReference(`${registry.host}/rt/bydigest@${wrong}`)));
  t.is(err?.code, 'TSBUILD_DIGEST_MISMATCH');
});

test('a missing tag is TSBUILD_IMAGE_NOT_FOUND naming the registry and reference; nothing stored', async (t) => {
  const b = await testStore(t);
  const c = testClient(t);
  const err = await t.throwsAsync<RegistryError>(c.pull(b.store, parseReference(`${registry.host}/rt/nothing:here`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_IMAGE_NOT_FOUND');
  t.regex(err!.message, new RegExp(`pull ${registry.host}/rt/nothing:here: .*${registry.host} answered 404`));
  t.is((await blobsIn(b.store)).size, 0);
});
