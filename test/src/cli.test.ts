/** The CLI's other surfaces: export formats, iidfile, images/inspect/history, --target, --label, -f, progress modes. */
import test from 'ava';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, tsbuild } from './helpers/cli.js';
import { expected, prepareFixture, removeDir, tempDir } from './helpers/fixtures.js';
import { treeOf } from './helpers/tree.js';

test('docker-archive and local exports hold the same filesystem docker build made', async (t) => {
  const ctx = await prepareFixture('copy-semantics');
  const work = await tempDir('exports');
  try {
    const res = await tsbuild(['build', '-q', '-t', 'exp:1', '-o', `type=docker,dest=${work}/docker.tar`, '-o', `type=local,dest=${work}/rootfs`, '--iidfile', `${work}/iid`, ctx], { root: join(work, 'store') });
    t.is(res.code, 0, res.stderr);
    const id = (await readFile(`${work}/iid`, 'utf8')).trim();
    t.is(res.stdout.trim(), id, '-q prints the image ID');
    const inspect = JSON.parse((await run('skopeo', ['inspect', `docker-archive:${work}/docker.tar`])).stdout) as { Layers: string[] };
    t.is(inspect.Layers.length, 16);
    const dockerManifest = JSON.parse((await run('tar', ['-xOf', `${work}/docker.tar`, 'manifest.json'])).stdout) as Array<{ RepoTags: string[] }>;
    t.deepEqual(dockerManifest[0]!.RepoTags, ['exp:1']);
    const manifest = JSON.parse((await run('skopeo', ['inspect', '--raw', `docker-archive:${work}/docker.tar`])).stdout) as { config: { digest: string } };
    t.is(manifest.config.digest, id, 'the docker-archive carries our config unchanged');
    await run('skopeo', ['copy', '-q', `docker-archive:${work}/docker.tar`, `oci:${work}/from-docker:img`]);
    await run('umoci', ['unpack', '--image', `${work}/from-docker:img`, `${work}/bundle`]);
    const want = await expected('copy-semantics', 'tree.txt');
    t.is(await treeOf(join(work, 'bundle', 'rootfs')), want, 'docker-archive -> skopeo -> umoci');
    t.is(await treeOf(join(work, 'rootfs')), want, 'type=local');
  } finally {
    await removeDir(ctx);
    await removeDir(work);
  }
});

test('images, inspect and history show the store in docker\'s shapes', async (t) => {
  const ctx = await prepareFixture('config-all');
  const work = await tempDir('views');
  const root = join(work, 'store');
  try {
    const b = await tsbuild(['build', '-q', '-t', 'views:1', '-t', 'views', '--label', 'extra=yes', ctx], { root });
    t.is(b.code, 0, b.stderr);
    const id = b.stdout.trim();
    const images = (await tsbuild(['images'], { root })).stdout.split('\n');
    t.regex(images[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    t.true(images.some((l) => new RegExp(`^views\\s+1\\s+${id.slice(7, 19)}\\s`).test(l)));
    t.true(images.some((l) => new RegExp(`^views\\s+latest\\s+${id.slice(7, 19)}\\s`).test(l)));
    t.is((await tsbuild(['images', '-q'], { root })).stdout, `${id.slice(7, 19)}\n`);
    const [img] = JSON.parse((await tsbuild(['inspect', 'views:1'], { root })).stdout) as Array<Record<string, unknown>>;
    t.is(img!.Id, id);
    t.deepEqual((img!.RepoTags as string[]).sort(), ['views:1', 'views:latest']);
    t.deepEqual(Object.keys(img!).slice(0, 8), ['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'DockerVersion', 'Author']);
    t.is((img!.Config as { Labels: Record<string, string> }).Labels.extra, 'yes');
    t.is((img!.RootFS as { Layers: string[] }).Layers.length, 4);
    const hist = img!.History as Array<{ created_by: string; empty_layer?: boolean }>;
    t.is(hist.length, 19);
    t.is(hist.filter((h) => !h.empty_layer).length, 4, 'one non-empty history entry per layer');
    const byId = JSON.parse((await tsbuild(['inspect', id.slice(7, 19)], { root })).stdout) as Array<{ Id: string }>;
    t.is(byId[0]!.Id, id, 'inspect by short image ID');
    const history = (await tsbuild(['history', 'views'], { root })).stdout.trim().split('\n');
    t.regex(history[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    t.is(history.length, 1 + 19);
    t.true(history[1]!.startsWith(id.slice(7, 19)));
    t.regex(history[1]!, /CMD \["--help"\]/);
    t.regex(history[history.length - 1]!, /^<missing>\s+.*ARG V=1/);
    const missing = await tsbuild(['inspect', 'nope'], { root });
    t.is(missing.code, 1);
    t.regex(missing.stderr, /image "nope" not found/);
  } finally {
    await removeDir(ctx);
    await removeDir(work);
  }
});

test('--target builds an earlier stage; -f with its own .dockerignore; --progress json', async (t) => {
  const work = await tempDir('target', t);
  const ctx = join(work, 'ctx');
  await mkdir(join(ctx, 'df'), { recursive: true });
  await writeFile(join(ctx, 'a.txt'), 'a');
  await writeFile(join(ctx, 'b.txt'), 'b');
  await writeFile(join(ctx, '.dockerignore'), 'b.txt\n');
  await writeFile(join(ctx, 'df', 'Build.df'), 'FROM scratch AS first\nCOPY . /ctx/\nFROM first AS second\nCOPY b.txt /b\n');
  await writeFile(join(ctx, 'df', 'Build.df.dockerignore'), 'a.txt\n');
  const res = await tsbuild(['build', '--progress', 'json', '-f', join(ctx, 'df', 'Build.df'), '--target', 'first', '-o', `type=local,dest=${work}/out`, ctx], { root: join(work, 'store') });
  t.is(res.code, 0, res.stderr);
  const events = res.stderr.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
  t.true(events.some((e) => e.type === 'step-start'));
  t.is(events[events.length - 1]!.type, 'export');
  const tree = await treeOf(join(work, 'out'));
  t.regex(tree, /^ctx\/b\.txt\t/m, 'Build.df.dockerignore wins over .dockerignore');
  t.notRegex(tree, /ctx\/a\.txt/);
  t.notRegex(tree, /^b\t/m, 'stage "second" was not built');
});

test('--version names the Dockerfile syntax level', async (t) => {
  const res = await tsbuild(['--version'], { root: '/nonexistent' });
  t.is(res.code, 0);
  t.regex(res.stdout, /^tsbuild \d+\.\d+\.\d+\nDockerfile syntax: docker\/dockerfile:\d/);
});
