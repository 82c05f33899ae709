/** The build cache: what reuses a step, what does not, and what a miss says. */
import test from 'ava';
import { readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { tempDir, type Teardown } from './helpers/fixtures.js';

const DOCKERFILE = [
  'FROM busybox AS tools',
  'RUN echo tool > /tool',
  'FROM busybox',
  'ARG FLAVOR=plain',
  'WORKDIR /app',
  'COPY app.txt .',
  'RUN echo "$FLAVOR" > flavor && cat app.txt > copy.txt',
  'COPY --from=tools /tool /app/tool',
  'ENV DONE=1',
].join('\n');

/** A busybox store and the context of DOCKERFILE, both removed when the test ends. */
async function setup(t: Teardown): Promise<{ root: string; ctx: string }> {
  const root = await busyboxStore(t);
  const ctx = await tempDir('cache', t);
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(ctx, 'app.txt'), 'v1\n');
  await writeFile(join(ctx, 'notes.md'), 'ignored\n');
  await writeFile(join(ctx, '.dockerignore'), 'notes.md\n');
  return { root, ctx };
}

async function build(root: string, ctx: string, ...args: string[]): Promise<{ id: string; log: string; cached: number; ran: number }> {
  const res = await tsbuild(['build', '--progress', 'plain', '--iidfile', `${ctx}/iid`, '-t', 'cached:1', ...args, ctx], { root });
  if (res.code !== 0) throw new Error(res.stderr);
  const { readFile } = await import('node:fs/promises');
  return {
    id: await readFile(`${ctx}/iid`, 'utf8'),
    log: res.stderr,
    cached: (res.stderr.match(/^#\d+ CACHED$/gm) ?? []).length,
    ran: (res.stderr.match(/^#\d+ DONE /gm) ?? []).length,
  };
}

test('an unchanged rebuild reuses every step and gives the same image ID', async (t) => {
  const { root, ctx } = await setup(t);
  const first = await build(root, ctx);
  t.is(first.cached, 0);
  const again = await build(root, ctx);
  t.is(again.cached, 5, again.log);
  t.is(again.id, first.id);
});

test('content decides, not times; ignored files do not count; a change says what changed', async (t) => {
  const { root, ctx } = await setup(t);
  const first = await build(root, ctx);
  await utimes(join(ctx, 'app.txt'), 1000, 1000);
  await writeFile(join(ctx, 'notes.md'), 'changed but ignored\n');
  t.is((await build(root, ctx)).cached, 5, 'a new mtime and an ignored file change nothing');
  await writeFile(join(ctx, 'app.txt'), 'v2\n');
  const changed = await build(root, ctx);
  t.regex(changed.log, /cache miss: checksums\[0\] was "[0-9a-f]+", now "[0-9a-f]+"/);
  t.regex(changed.log, /cache miss: an earlier step changed/);
  t.not(changed.id, first.id);
  const out = await tsbuild(['run', 'cached:1', 'cat', '/app/copy.txt'], { root });
  t.is(out.stdout, 'v2\n');
  await writeFile(join(ctx, 'app.txt'), 'v1\n');
  t.is((await build(root, ctx)).id, first.id, 'going back finds the first build again');
});

test('a build arg the RUN sees, and a change in a --from stage, miss exactly the steps they reach', async (t) => {
  const { root, ctx } = await setup(t);
  await build(root, ctx);
  const flavored = await build(root, ctx, '--build-arg', 'FLAVOR=spicy');
  t.regex(flavored.log, /cache miss: env\[\d+\] was "FLAVOR=plain", now "FLAVOR=spicy"/);
  t.is(flavored.cached, 3, 'tools RUN, WORKDIR and COPY app.txt are reused');
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE.replace('echo tool', 'echo better-tool'));
  const tools = await build(root, ctx, '--build-arg', 'FLAVOR=spicy');
  t.is(tools.cached, 3, 'only the tools RUN and the COPY --from run again');
  t.is((await tsbuild(['run', 'cached:1', 'cat', '/app/tool'], { root })).stdout, 'better-tool\n');
});

test('--no-cache runs everything; the cache survives prune but not prune --all; a lost snapshot is unpacked again', async (t) => {
  const { root, ctx } = await setup(t);
  const first = await build(root, ctx);
  const fresh = await build(root, ctx, '--no-cache');
  t.is(fresh.cached, 0);
  t.is(fresh.ran, 7, 'two FROM steps and five layer steps');
  t.is((await tsbuild(['prune'], { root })).code, 0);
  t.is((await build(root, ctx)).cached, 5, 'prune keeps the build cache');
  for (const s of await readdir(join(root, 'snapshots'))) if (!s.startsWith('.')) await rm(join(root, 'snapshots', s), { recursive: true, force: true });
  const unpacked = await build(root, ctx);
  t.is(unpacked.cached, 5, 'snapshots come back from the layer blobs');
  t.is((await tsbuild(['run', 'cached:1', 'cat', '/app/flavor'], { root })).stdout, 'plain\n');
  t.is((await tsbuild(['prune', '--all'], { root })).code, 0);
  const after = await build(root, ctx);
  t.is(after.cached, 0, 'prune --all empties the cache');
  t.not(after.id, first.id);
});
