/**
 * What pull, push, images, inspect and rmi report about images that went through a
 * registry (Debian's docker-registry on 127.0.0.1), compared with docker: the pull
 * status, RepoDigests, and names grouped by image ID when several manifests (layers
 * uncompressed in the store, gzip after a push and pull) share one config.
 */
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileRegistry } from '@tsbuild/layerstore/testing';
import { tsbuild } from './helpers/cli.js';
import { busyboxStore, pushBusybox } from './helpers/busybox.js';
import { removeDir, tempDir } from './helpers/fixtures.js';

const registry = fileRegistry(test);

test.before(async () => {
  await pushBusybox(`${registry.host}/library/busybox:latest`);
});

interface Inspected {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Size: number;
}

async function inspect(root: string, name: string): Promise<Inspected> {
  const res = await tsbuild(['inspect', name], { root });
  if (res.code !== 0) throw new Error(res.stderr);
  return (JSON.parse(res.stdout) as Inspected[])[0]!;
}

test('pull into a store that lacks the image downloads a newer image; again, it is up to date; RepoDigests names the pulled digest', async (t) => {
  const root = join(await tempDir('pullstatus'), 'store');
  const ref = `${registry.host}/library/busybox:latest`;
  try {
    const first = await tsbuild(['pull', ref], { root });
    t.is(first.code, 0, first.stderr);
    t.regex(first.stderr, new RegExp(`^Status: Downloaded newer image for ${ref.replace(/\./g, '\\.')}\\b`, 'm'));
    t.notRegex(first.stderr, /up to date/);
    t.is(first.stdout, `${ref}\n`);
    const digest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(first.stderr)![1]!;
    const again = await tsbuild(['pull', ref], { root });
    t.regex(again.stderr, new RegExp(`^Status: Image is up to date for ${ref.replace(/\./g, '\\.')}\\b`, 'm'));
    const img = await inspect(root, ref);
    t.deepEqual(img.RepoDigests, [`${registry.host}/library/busybox@${digest}`]);
    t.deepEqual(img.RepoTags, [ref]);
  } finally {
    await removeDir(join(root, '..'));
  }
});

test('one image under two manifests: images shows a row per name with one ID and size, inspect lists every name, rmi of the ID removes both (with -f)', async (t) => {
  const root = await busyboxStore(t);
  const remote = `${registry.host}/group/bb:1`;
  const local = await inspect(root, 'busybox:latest');
  const pushed = await tsbuild(['push', 'busybox:latest', remote], { root });
  t.is(pushed.code, 0, pushed.stderr);
  const pushedDigest = pushed.stdout.trim();
  t.is((await tsbuild(['pull', remote], { root })).code, 0);
  const viaRemote = await inspect(root, remote);
  t.is(viaRemote.Id, local.Id, 'same config: same image');
  const manifests = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  t.is(new Set(manifests.manifests.map((m) => m.digest)).size, 2, 'two manifests (uncompressed and gzip layers)');

  for (const name of ['busybox:latest', remote, local.Id.slice(7, 19)]) {
    const img = await inspect(root, name);
    t.deepEqual(img.RepoTags, [remote, 'busybox:latest'].sort(), name);
    t.deepEqual(img.RepoDigests, [`${registry.host}/group/bb@${pushedDigest}`], name);
    t.is(img.Size, local.Size, 'the same content size whichever manifest');
  }
  const rows = (await tsbuild(['images'], { root })).stdout.trim().split('\n').slice(1);
  t.is(rows.length, 2, rows.join('\n'));
  const cols = rows.map((r) => r.split(/\s{3,}/));
  t.deepEqual(cols.map((c) => c[2]), [local.Id.slice(7, 19), local.Id.slice(7, 19)]);
  t.is(cols[0]!.at(-1), cols[1]!.at(-1), 'one size');
  t.is((await tsbuild(['images', '-q'], { root })).stdout, `${local.Id.slice(7, 19)}\n`);

  const refused = await tsbuild(['rmi', local.Id.slice(7, 19)], { root });
  t.is(refused.code, 1);
  t.regex(refused.stderr, /must be forced.*referenced in multiple repositories/);
  const forced = await tsbuild(['rmi', '-f', local.Id.slice(7, 19)], { root });
  t.is(forced.code, 0, forced.stderr);
  t.deepEqual(forced.stdout.trim().split('\n').sort(), [`Untagged: ${remote}`, 'Untagged: busybox:latest'].sort());
  t.is((await tsbuild(['images', '-q'], { root })).stdout, '');
});

test('build --push and -o type=registry record RepoDigests of the built image', async (t) => {
  const root = join(await tempDir('builtdigests'), 'store');
  const ctx = await tempDir('builtctx');
  try {
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${registry.host}/library/busybox\nRUN echo built > /built\n`);
    const res = await tsbuild(['build', '-q', '-t', `${registry.host}/apps/rd:1`, '--push', '-o', `type=registry,name=${registry.host}/apps/rd-out:1`, '--iidfile', `${ctx}/iid`, ctx], { root });
    t.is(res.code, 0, res.stderr);
    const digest = await readFile(`${ctx}/iid`, 'utf8');
    const img = await inspect(root, `${registry.host}/apps/rd:1`);
    t.deepEqual(img.RepoDigests, [`${registry.host}/apps/rd-out@${digest}`, `${registry.host}/apps/rd@${digest}`].sort());
    const base = await inspect(root, `${registry.host}/library/busybox:latest`);
    t.is(base.RepoDigests.length, 1, 'the base pulled by FROM has its digest too');
    t.regex(base.RepoDigests[0]!, new RegExp(`^${registry.host.replace(/\./g, '\\.')}/library/busybox@sha256:[0-9a-f]{64}$`));
  } finally {
    await removeDir(ctx);
    await removeDir(join(root, '..'));
  }
});
