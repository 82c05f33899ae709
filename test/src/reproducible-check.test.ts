/** `tsbuild build --reproducible-check`: two builds in fresh stores must give the same image. */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { tempDir } from './helpers/fixtures.js';

test('a deterministic Dockerfile passes, and the image is then in the store', async (t) => {
  const root = await busyboxStore(t);
  const ctx = await tempDir('repro-ok', t);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY Dockerfile /df\nRUN echo same > /same && mkdir -p /a/b\n');
  const res = await tsbuild(['build', '--reproducible-check', '--progress', 'plain', '-t', 'repro:1', ctx], { root, env: { SOURCE_DATE_EPOCH: '1700000000' } });
  t.is(res.code, 0, res.stderr);
  t.regex(res.stderr, /reproducible: both builds gave sha256:[0-9a-f]{64}/);
  t.is((await tsbuild(['run', 'repro:1', 'cat', '/same'], { root })).stdout, 'same\n');
});

test('a RUN that writes the time fails the check, naming the layer and the file', async (t) => {
  const root = await busyboxStore(t);
  const ctx = await tempDir('repro-bad', t);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo fixed > /fixed\nRUN mkdir -p /var/log && cat /proc/sys/kernel/random/uuid > /var/log/build-id\n');
  const res = await tsbuild(['build', '--reproducible-check', '-t', 'notrepro:1', ctx], { root, env: { SOURCE_DATE_EPOCH: '1700000000' } });
  t.is(res.code, 1);
  t.regex(res.stderr, /not reproducible: .*layer 5 \(RUN .*cat \/proc\/sys\/kernel\/random\/uuid.*\) differs: first difference: var\/log\/build-id: its content differs/);
  t.is((await tsbuild(['inspect', 'notrepro:1'], { root })).code, 1, 'nothing was tagged');
});

test('without SOURCE_DATE_EPOCH the check fails on the build times and says so', async (t) => {
  const root = await busyboxStore(t);
  const ctx = await tempDir('repro-nosde', t);
  // A layer made now carries the time (in whole seconds), and the config the build's
  // time: two builds within one second differ only in `created`, two that straddle a
  // second boundary in a file's mtime too. Either way the check names a time.
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo same > /same\nENV A=1\n');
  const res = await tsbuild(['build', '--reproducible-check', ctx], { root });
  t.is(res.code, 1);
  t.regex(res.stderr, /not reproducible: .*(\bmtime\b|\bcreated\b).* \(SOURCE_DATE_EPOCH is not set/);
});
