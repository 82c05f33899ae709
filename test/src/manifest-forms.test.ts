/**
 * Which manifest a build writes, and where: --metadata-file names a manifest the store,
 * the archive or layout, and the registry all hold; oci-mediatypes= and push --format
 * choose the media-type family, never a mix; --load hands docker a docker-archive; and a
 * store written before media types were kept apart still lists, runs and exports.
 */
import test from 'ava';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaType, Store, type Manifest } from '@tsbuild/layerstore';
import { fileRegistry } from '@tsbuild/layerstore/testing';
import { run, tsbuild, type CliResult } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { tempDir, type Teardown } from './helpers/fixtures.js';

const registry = fileRegistry(test);

const DOCKERFILE = 'FROM busybox\nRUN echo hi > /hi\nCMD ["cat", "/hi"]\n';

async function setup(t: Teardown, prefix: string): Promise<{ work: string; root: string; ctx: string }> {
  const root = await busyboxStore(t);
  const work = await tempDir(prefix, t);
  const ctx = join(work, 'ctx');
  await mkdir(ctx);
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  return { work, root, ctx };
}

function ok(res: CliResult): CliResult {
  if (res.code !== 0) throw new Error(`exit ${res.code}: ${res.stderr}`);
  return res;
}

async function json<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The manifest an archive's index.json names first, and its bytes' media types. */
async function archived(archive: string): Promise<{ digest: string; manifest: Manifest }> {
  const index = JSON.parse((await run('tar', ['-xOf', archive, 'index.json'])).stdout) as { manifests: Array<{ digest: string }> };
  const digest = index.manifests[0]!.digest;
  const manifest = JSON.parse((await run('tar', ['-xOf', archive, `blobs/sha256/${digest.slice(7)}`])).stdout) as Manifest;
  return { digest, manifest };
}

async function storeTag(root: string, name: string): Promise<string | undefined> {
  const index = await json<{ manifests: Array<{ digest: string; annotations?: Record<string, string> }> }>(join(root, 'index.json'));
  return index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === name)?.digest;
}

const types = (m: Manifest) => [m.mediaType, m.config.mediaType, ...m.layers.map((l) => l.mediaType)];
const family = (m: Manifest) => [...new Set(types(m).map((t) => (t?.startsWith('application/vnd.oci.') ? 'oci' : t?.startsWith('application/vnd.docker.') ? 'docker' : t)))];

test('--metadata-file names the manifest each kind of output holds, and the store tag points at it', async (t) => {
  const { work, root, ctx } = await setup(t, 'forms-meta');
  const meta = async (name: string) => json<Record<string, string>>(join(work, `${name}.json`));
  // An OCI archive: gzip layers, OCI types.
  ok(await tsbuild(['build', '-q', '-t', 'a:1', '--metadata-file', join(work, 'oci.json'), '-o', `type=oci,dest=${work}/a.tar`, ctx], { root }));
  const oci = await archived(join(work, 'a.tar'));
  t.is((await meta('oci'))['containerimage.digest'], oci.digest);
  t.is(await storeTag(root, 'a:1'), oci.digest);
  t.deepEqual(family(oci.manifest), ['oci']);
  t.true(oci.manifest.layers.every((l) => l.mediaType === MediaType.ociLayerGzip));

  // A docker-archive: Docker types, uncompressed like docker save; the manifest is in its OCI layout.
  ok(await tsbuild(['build', '-q', '-t', 'd:1', '--metadata-file', join(work, 'docker.json'), '-o', `type=docker,dest=${work}/d.tar`, ctx], { root }));
  const docker = await archived(join(work, 'd.tar'));
  t.is((await meta('docker'))['containerimage.digest'], docker.digest);
  t.is(await storeTag(root, 'd:1'), docker.digest);
  t.deepEqual(family(docker.manifest), ['docker']);
  t.is((await meta('docker'))['containerimage.config.digest'], (await meta('oci'))['containerimage.config.digest'], 'the same image');

  // oci-mediatypes=false in an OCI archive; oci-mediatypes=true in a docker-archive.
  ok(await tsbuild(['build', '-q', '-o', `type=oci,dest=${work}/a2.tar,oci-mediatypes=false`, '-o', `type=docker,dest=${work}/d2.tar,oci-mediatypes=true,compression=zstd`, '--metadata-file', join(work, 'both.json'), ctx], { root }));
  const a2 = await archived(join(work, 'a2.tar'));
  const d2 = await archived(join(work, 'd2.tar'));
  t.deepEqual(family(a2.manifest), ['docker']);
  t.deepEqual(family(d2.manifest), ['oci']);
  t.true(d2.manifest.layers.every((l) => l.mediaType === MediaType.ociLayerZstd));
  t.is((await meta('both'))['containerimage.digest'], a2.digest, 'with two forms, the first output names the build');
  const index = await json<{ manifests: Array<{ digest: string; annotations?: Record<string, string> }> }>(join(root, 'index.json'));
  t.true(index.manifests.some((m) => m.digest === a2.digest && m.annotations?.['org.opencontainers.image.ref.name'] === undefined), 'an untagged build is kept under its manifest');

  // No output: the store's manifest.
  ok(await tsbuild(['build', '-q', '-t', 'plain:1', '--metadata-file', join(work, 'plain.json'), ctx], { root }));
  t.is((await meta('plain'))['containerimage.digest'], (await storeTag(root, 'plain:1')) ?? 'no tag');

  // zstd has no Docker media type: a usage error naming the output, not a mixed manifest.
  const bad = await tsbuild(['build', '-q', '-o', `type=docker,dest=${work}/z.tar,compression=zstd`, ctx], { root });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /-o type=docker,dest=.*compression=zstd: zstd layers need OCI media types/);
  const bad2 = await tsbuild(['build', '-q', '-o', `type=oci,dest=${work}/z.tar,oci-mediatypes=maybe`, ctx], { root });
  t.is(bad2.code, 2);
  t.regex(bad2.stderr, /oci-mediatypes must be true or false/);
});

test('build --push and push --format: one family per manifest, and the pushed digest is the metadata digest', async (t) => {
  const { work, root, ctx } = await setup(t, 'forms-push');
  const name = `${registry.host}/forms/app:1`;
  ok(await tsbuild(['build', '-q', '-t', name, '--push', '-o', `type=oci,dest=${work}/a.tar`, '--metadata-file', join(work, 'meta.json'), ctx], { root }));
  const meta = await json<Record<string, string>>(join(work, 'meta.json'));
  const inspect = async (ref: string) => JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout) as Manifest;
  const pushed = await inspect(name);
  t.deepEqual(family(pushed), ['oci']);
  t.is((await archived(join(work, 'a.tar'))).digest, meta['containerimage.digest'], 'the archive and the registry hold one manifest');
  t.is(await storeTag(root, name), meta['containerimage.digest']);

  const v2 = ok(await tsbuild(['push', '--format', 'v2s2', name, `${registry.host}/forms/app:v2s2`], { root }));
  const docker = await inspect(`${registry.host}/forms/app:v2s2`);
  t.deepEqual(family(docker), ['docker']);
  t.deepEqual(docker.layers.map((l) => l.digest), pushed.layers.map((l) => l.digest), 'the same layer blobs');
  t.regex(v2.stdout, /^sha256:[a-f0-9]{64}\n$/);
  await run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${registry.host}/forms/app:v2s2`, `docker-archive:${work}/v2.tar`]);

  ok(await tsbuild(['build', '-q', '-o', `type=registry,name=${registry.host}/forms/app:reg,oci-mediatypes=false`, ctx], { root }));
  t.deepEqual(family(await inspect(`${registry.host}/forms/app:reg`)), ['docker']);
  const bad = await tsbuild(['push', '--format', 'v1', name], { root });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--format "v1": want oci or v2s2/);
});

test('--load hands docker load a docker-archive; without a docker CLI it says so', async (t) => {
  const { work, root, ctx } = await setup(t, 'forms-load');
  // A docker CLI that keeps what `docker load -i FILE` was given.
  const bin = join(work, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'docker'), `#!/bin/sh\n[ "$1" = load ] && [ "$2" = -i ] || exit 64\ncp "$3" "${work}/loaded.tar" && echo "Loaded image: app:1"\n`);
  await chmod(join(bin, 'docker'), 0o755);
  const res = ok(await tsbuild(['build', '--progress', 'plain', '-t', 'app:1', '--load', ctx], { root, env: { PATH: `${bin}:/usr/bin:/bin` } }));
  t.regex(res.stderr, /Loaded image: app:1/);
  const loaded = await archived(join(work, 'loaded.tar'));
  t.deepEqual(family(loaded.manifest), ['docker']);
  t.is(await storeTag(root, 'app:1'), loaded.digest);
  const other = join(work, 'other-store');
  t.is(ok(await tsbuild(['load', '-i', join(work, 'loaded.tar')], { root: other })).stdout, 'Loaded image: app:1\n');
  t.is(ok(await tsbuild(['run', 'app:1'], { root: other })).stdout, 'hi\n');

  const none = await tsbuild(['build', '-q', '--load', ctx], { root, env: { PATH: '/nonexistent' } });
  t.is(none.code, 2);
  t.regex(none.stderr, /--load: no docker CLI on PATH/);
});

test('a store written before media types were kept apart still lists, runs and exports its images', async (t) => {
  const { work, root, ctx } = await setup(t, 'forms-old');
  // What an older tsbuild left: an OCI manifest holding a Docker layer type (from a Docker-format base).
  const store = await Store.open(root);
  const image = await store.resolveImage('busybox:latest');
  const manifest = { ...image.manifest, layers: image.manifest.layers.map((l) => ({ ...l, mediaType: 'application/vnd.docker.image.rootfs.diff.tar' })) };
  const { digest, size } = await store.blobs.writeBytes(Buffer.from(JSON.stringify(manifest)));
  await store.tags.set('old:1', { mediaType: MediaType.ociManifest, digest, size });
  await store.close();

  t.regex(ok(await tsbuild(['images'], { root })).stdout, /^old\s+1\s/m);
  t.is(ok(await tsbuild(['run', 'old:1', 'echo', 'runs'], { root })).stdout, 'runs\n');
  ok(await tsbuild(['save', '--format', 'oci-dir', '-o', join(work, 'layout'), 'old:1'], { root }));
  await run('umoci', ['unpack', '--image', `${join(work, 'layout')}:1`, join(work, 'bundle')]);
  ok(await tsbuild(['save', '-o', join(work, 'old.docker.tar'), 'old:1'], { root }));
  t.deepEqual(family((await archived(join(work, 'old.docker.tar'))).manifest), ['docker']);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM old:1\nRUN echo child > /child\n');
  ok(await tsbuild(['build', '-q', '-t', 'child:1', '-o', `type=oci,dest=${work}/child.tar`, ctx], { root }));
  t.deepEqual(family((await archived(join(work, 'child.tar'))).manifest), ['oci']);
  const pushed = ok(await tsbuild(['push', 'old:1', `${registry.host}/forms/old:1`], { root }));
  t.regex(pushed.stdout, /^sha256:/);
  const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/forms/old:1`])).stdout) as Manifest;
  t.deepEqual(family(raw), ['oci']);
});
