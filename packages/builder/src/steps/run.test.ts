/**
 * RUN in the builder, with the recording executor standing in for the sandbox (no root
 * needed): what the sandbox is asked to run, how its upper dir becomes a layer, and
 * how failures are reported.
 */
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingExecutor } from '@tsbuild/executor/testing';
import { Store } from '@tsbuild/layerstore';
import { build } from '../solve/index.js';
import type { BuildEvent } from '../solve/events.js';

async function setup(dockerfile: string): Promise<{ dir: string; store: Store }> {
  const dir = await mkdtemp(join(tmpdir(), 'builder-run-'));
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  return { dir, store: await Store.open(join(dir, 'store')) };
}

test('RUN asks the executor for the shell command with the stage env, build args, user and workdir', async (t) => {
  const { dir, store } = await setup('FROM scratch\nARG TOKEN\nARG OTHER=o\nENV E=1\nWORKDIR /w\nRUN echo "$TOKEN" > out\nRUN ["/bin/tool", "--flag"]\nRUN --network=none true\n');
  const executor = new RecordingExecutor(async (req, i) => ({
    stdout: `step ${i}\n`,
    effect: async () => {
      if (i === 0) await writeFile(join(req.rootfs.upperdir!, 'made-by-run'), 'x');
    },
  }));
  try {
    const events: BuildEvent[] = [];
    const res = await build({ store, contextDir: dir, executor, buildArgs: new Map([['TOKEN', 'tok'], ['HTTP_PROXY', 'http://proxy:3128'], ['UNUSED', 'u']]), onEvent: (e) => events.push(e) });
    t.is(executor.requests.length, 3);
    const [a, b, c] = executor.requests;
    t.deepEqual(a!.process.args, ['/bin/sh', '-c', 'echo "$TOKEN" > out']);
    t.deepEqual(a!.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'E=1', 'TOKEN=tok', 'OTHER=o', 'HTTP_PROXY=http://proxy:3128', 'HOME=/']);
    t.is(a!.process.cwd, '/w');
    t.deepEqual(a!.process.user, { uid: 0, gid: 0, groups: [] }, 'no USER: BuildKit runs root with no supplementary groups');
    t.is(a!.process.hostname, 'buildkitsandbox');
    t.is(a!.network, 'private', 'a network of its own, like BuildKit');
    t.is(a!.rootfs.lowerdirs.length, 1, 'the WORKDIR layer below');
    t.deepEqual(b!.process.args, ['/bin/tool', '--flag']);
    t.is(c!.network, 'none');
    const history = (res.image.config.history ?? []).map((h) => h.created_by);
    t.true(history.includes('RUN |2 TOKEN=tok OTHER=o /bin/sh -c echo "$TOKEN" > out # buildkit'));
    t.true(history.includes('RUN |2 TOKEN=tok OTHER=o /bin/tool --flag # buildkit'));
    t.is(res.image.manifest.layers.length, 4);
    t.true(events.some((e) => e.type === 'step-log' && e.data.toString() === 'step 0\n'));
    t.false(res.warnings.some((w) => w.includes('HTTP_PROXY')), 'proxy build args need no ARG');
    t.true(res.warnings.some((w) => w.includes('build-args [UNUSED] were not consumed')), res.warnings.join('\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failing RUN is an error naming the line; a setup failure says the command could not start', async (t) => {
  for (const [scripted, message] of [
    [{ exitCode: 2 }, /Dockerfile:2: process "\/bin\/sh -c false" did not complete successfully: exit code: 2/],
    [{ exitCode: 137, signal: 'SIGKILL' }, /killed by SIGKILL/],
    [{ setupError: 'workdir /x: not a directory' }, /Dockerfile:2: RUN could not start "\/bin\/sh -c false": workdir \/x: not a directory/],
  ] as const) {
    const { dir, store } = await setup('FROM scratch\nRUN false\n');
    try {
      const err = await t.throwsAsync(build({ store, contextDir: dir, executor: new RecordingExecutor([scripted]) }));
      t.regex(String(err), message);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test('RUN --mount and --security=insecure are refused, naming the line', async (t) => {
  for (const [df, message] of [
    ['FROM scratch\nRUN --mount=type=cache,target=/c true\n', /Dockerfile:2: RUN --mount is not supported/],
    ['FROM scratch\nRUN --security=insecure true\n', /Dockerfile:2: RUN --security=insecure is not allowed/],
  ] as const) {
    const { dir, store } = await setup(df);
    const executor = new RecordingExecutor();
    try {
      const err = await t.throwsAsync(build({ store, contextDir: dir, executor }));
      t.regex(String(err), message);
      t.is(executor.requests.length, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});
