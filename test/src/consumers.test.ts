/**
 * The consumer matrix: an image built FROM a Docker-format base (schema 2, pushed to a
 * real docker-registry by skopeo, as most of Docker Hub is) and the same FROM an
 * OCI-format base, with a whiteout, an opaque directory, a hardlink, a symlink and a
 * setuid file, exported every way tsbuild can, and each export handed to the tools
 * users hand it to: umoci (unpack, then runc run), skopeo (docker-archive round trip,
 * OCI archive -> layout -> registry -> layout with digests preserved) and buildah
 * (from + run of the pushed image). Also the other way: tsbuild runs an image buildah
 * built and exported under a `name:tag` reference.
 */
import test from 'ava';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileRegistry } from '@tsbuild/layerstore/testing';
import { run, tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { removeDir, tempDir } from './helpers/fixtures.js';
import { treeOf } from './helpers/tree.js';

const OCI_TYPES = /^application\/vnd\.oci\.image\.(manifest\.v1\+json|config\.v1\+json|layer\.v1\.tar(\+gzip|\+zstd)?)$/;
const DOCKER_TYPES = /^application\/vnd\.docker\.(distribution\.manifest\.v2\+json|container\.image\.v1\+json|image\.rootfs\.diff\.tar(\.gzip)?)$/;

const registry = fileRegistry(test);
let work: string;
let policy: string;

interface Manifest {
  mediaType: string;
  config: { mediaType: string; digest: string };
  layers: Array<{ mediaType: string; digest: string }>;
}

test.before(async () => {
  work = await tempDir('consumers');
  policy = join(work, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  // The bases: tsbuild's busybox, copied by skopeo in OCI form and converted to Docker
  // schema 2 (what `docker push` of Docker Hub's images gives).
  const root = await busyboxStore();
  const saved = join(work, 'busybox.tar');
  const res = await tsbuild(['save', '--format', 'oci', '-o', saved, 'busybox:latest'], { root });
  if (res.code !== 0) throw new Error(res.stderr);
  await removeDir(join(root, '..'));
  await skopeo(['copy', '-q', '--dest-tls-verify=false', `oci-archive:${saved}`, `docker://${registry.host}/library/busybox:oci`]);
  await skopeo(['copy', '-q', '--format', 'v2s2', '--dest-tls-verify=false', `oci-archive:${saved}`, `docker://${registry.host}/library/busybox:docker`]);
});

test.after.always(async () => {
  if (work) await removeDir(work);
});

function skopeo(args: string[]) {
  return run('skopeo', ['--policy', policy, ...args]);
}

async function rawManifest(ref: string): Promise<Manifest> {
  return JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', ref])).stdout) as Manifest;
}

function mediaTypes(m: Manifest): string[] {
  return [m.mediaType, m.config.mediaType, ...m.layers.map((l) => l.mediaType)];
}

async function indexDigest(layoutDir: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  return index.manifests[0]!.digest;
}

async function diffIds(ref: string): Promise<string[]> {
  return (JSON.parse((await skopeo(['inspect', '--config', '--tls-verify=false', ref])).stdout) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
}

const DOCKERFILE = (base: string) => `FROM ${base} AS build
RUN mkdir -p /out && echo hello > /out/a

FROM ${base}
COPY --from=build /out /data
RUN mkdir -p /opt/dir && echo old > /opt/dir/old
RUN rm /etc/group && rm -rf /opt/dir && mkdir /opt/dir && echo new > /opt/dir/new \\
 && ln /data/a /data/b && ln -s a /data/c && touch /data/suid && chmod 4755 /data/suid
CMD ["cat", "/data/a"]
`;

for (const kind of ['docker', 'oci'] as const) {
  test(`FROM a ${kind}-format base: every export is read by umoci, runc, skopeo and buildah`, async (t) => {
    const base = `${registry.host}/library/busybox:${kind}`;
    t.true(mediaTypes(await rawManifest(`docker://${base}`)).every((m) => (kind === 'docker' ? DOCKER_TYPES : OCI_TYPES).test(m)), `the base is ${kind}-format`);
    const dir = join(work, kind);
    const ctx = join(dir, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE(base));
    const pushed = `${registry.host}/matrix/${kind}:1`;
    const root = join(dir, 'store');
    const res = await tsbuild(
      ['build', '--insecure-registry', registry.host, '-t', `matrix-${kind}:1`, '--metadata-file', join(dir, 'meta.json'),
        '-o', `type=oci,dest=${dir}/image.tar`, '-o', `type=oci,dest=${dir}/layout,tar=false`, '-o', `type=docker,dest=${dir}/docker.tar`,
        '-o', `type=local,dest=${dir}/rootfs`, '-o', `type=registry,name=${pushed}`, ctx],
      { root },
    );
    t.is(res.code, 0, res.stderr);
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as Record<string, string>;
    const digest = meta['containerimage.digest']!;

    // One manifest: the archive's, the layout's, the registry's and the store's.
    await run('tar', ['-xf', join(dir, 'image.tar'), '-C', await mkdirp(join(dir, 'unpacked-archive'))]);
    t.is(await indexDigest(join(dir, 'unpacked-archive')), digest, 'the OCI archive holds the build manifest');
    t.is(await indexDigest(join(dir, 'layout')), digest, 'the OCI layout holds the build manifest');
    t.is((JSON.parse((await skopeo(['inspect', '--tls-verify=false', `docker://${pushed}`])).stdout) as { Digest: string }).Digest, digest, 'the registry holds it');
    const store = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    t.is(store.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === `matrix-${kind}:1`)?.digest, digest, 'the store tag names it');
    const manifest = await rawManifest(`oci:${join(dir, 'layout')}:1`);
    t.deepEqual(mediaTypes(manifest).filter((m) => !OCI_TYPES.test(m)), [], 'only OCI media types');
    t.deepEqual(mediaTypes(await rawManifest(`docker-archive:${dir}/docker.tar`)).filter((m) => !DOCKER_TYPES.test(m)), [], 'docker-archive: only Docker media types');

    // The last layer really carries a whiteout, an opaque directory, a hardlink, a symlink and a setuid file.
    const last = manifest.layers.at(-1)!.digest.slice(7);
    const listing = (await run('tar', ['-tvzf', join(dir, 'layout', 'blobs', 'sha256', last)])).stdout;
    for (const needle of ['etc/.wh.group', 'opt/dir/.wh..wh..opq', 'data/b link to data/a', 'data/c -> a', '-rwsr-xr-x']) t.true(listing.includes(needle), `${needle} in\n${listing}`);

    // umoci unpack gives the tree -o type=local gives; runc runs the bundle.
    const bundle = join(dir, 'bundle');
    await run('umoci', ['unpack', '--image', `${join(dir, 'layout')}:1`, bundle]);
    const local = await treeOf(join(dir, 'rootfs'));
    t.is(await treeOf(join(bundle, 'rootfs')), local);
    t.false(local.includes('etc/group\t'));
    t.regex(local, /opt\/dir\/new\t/);
    t.notRegex(local, /opt\/dir\/old/);
    t.regex(local, /data\/suid\tfile\t4755/);
    const config = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { terminal: boolean } };
    config.process.terminal = false;
    await writeFile(join(bundle, 'config.json'), JSON.stringify(config));
    const runc = await run('runc', ['--root', join(dir, 'runc'), 'run', '--bundle', bundle, `tsbuild-matrix-${kind}-${process.pid}`]);
    t.is(runc.stdout, 'hello\n');

    // skopeo: OCI archive -> docker-archive -> OCI keeps the diff_ids; our own docker-archive too.
    const ours = await diffIds(`oci-archive:${dir}/image.tar`);
    await skopeo(['copy', '-q', `oci-archive:${dir}/image.tar`, `docker-archive:${dir}/skopeo-docker.tar:matrix:1`]);
    await skopeo(['copy', '-q', `docker-archive:${dir}/skopeo-docker.tar`, `oci:${dir}/back:1`]);
    t.deepEqual(await diffIds(`oci:${dir}/back:1`), ours);
    t.deepEqual(await diffIds(`docker-archive:${dir}/docker.tar`), ours);
    await skopeo(['copy', '-q', '--format', 'v2s2', `oci:${dir}/layout:1`, `dir:${dir}/v2s2`]);

    // skopeo: OCI archive -> OCI layout -> registry -> OCI layout, digests preserved.
    await skopeo(['copy', '-q', '--preserve-digests', `oci-archive:${dir}/image.tar`, `oci:${dir}/hop1:x`]);
    await skopeo(['copy', '-q', '--preserve-digests', '--dest-tls-verify=false', `oci:${dir}/hop1:x`, `docker://${registry.host}/copied/${kind}:1`]);
    await skopeo(['copy', '-q', '--preserve-digests', '--src-tls-verify=false', `docker://${registry.host}/copied/${kind}:1`, `oci:${dir}/hop2:y`]);
    t.is(await indexDigest(join(dir, 'hop1')), digest);
    t.is(await indexDigest(join(dir, 'hop2')), digest);

    // buildah: from + run of the pushed image.
    const buildah = ['--root', join(dir, 'buildah', 'root'), '--runroot', join(dir, 'buildah', 'run'), '--storage-driver', 'vfs'];
    const ctr = (await run('buildah', [...buildah, 'from', '--quiet', '--signature-policy', policy, '--tls-verify=false', pushed])).stdout.trim();
    try {
      const out = await run('buildah', [...buildah, 'run', '--isolation', 'chroot', ctr, '--', 'sh', '-c', 'cat /data/b; readlink /data/c; ls /opt/dir; test -e /etc/group || echo no-group']);
      t.is(out.stdout, 'hello\na\nnew\nno-group\n');
    } finally {
      await run('buildah', [...buildah, 'rm', ctr], { allowFail: true });
      await run('buildah', [...buildah, 'rmi', '--all', '--force'], { allowFail: true });
    }
  });
}

test('tsbuild runs an image built and exported by buildah, named name:tag in the archive', async (t) => {
  const dir = join(work, 'from-buildah');
  const buildah = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
  const ctr = (await run('buildah', [...buildah, 'from', '--quiet', '--signature-policy', policy, '--tls-verify=false', `${registry.host}/library/busybox:docker`])).stdout.trim();
  try {
    await run('buildah', [...buildah, 'run', '--isolation', 'chroot', ctr, '--', 'sh', '-c', 'echo from-buildah > /msg']);
    await run('buildah', [...buildah, 'config', '--cmd', '["cat", "/msg"]', ctr]);
    await run('buildah', [...buildah, 'commit', '--quiet', '--signature-policy', policy, ctr, 'localhost/made-by-buildah:2.0']);
    await run('buildah', [...buildah, 'push', '--quiet', '--signature-policy', policy, 'localhost/made-by-buildah:2.0', `oci-archive:${dir}/image.tar:made-by-buildah:2.0`]);
  } finally {
    await run('buildah', [...buildah, 'rm', ctr], { allowFail: true });
    await run('buildah', [...buildah, 'rmi', '--all', '--force'], { allowFail: true });
  }
  const root = join(dir, 'store');
  const res = await tsbuild(['run', `oci-archive:${dir}/image.tar:made-by-buildah:2.0`], { root });
  t.is(res.code, 0, res.stderr);
  t.is(res.stdout, 'from-buildah\n');
});

async function mkdirp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
