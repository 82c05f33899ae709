/**
 * The solver with the recording executor standing in for the sandbox (no root): which
 * stages it solves and when, what the cache saves a rebuild, and the events it emits.
 */
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRequest } from '@tsbuild/executor';
import { RecordingExecutor, type Script } from '@tsbuild/executor/testing';
import { Store } from '@tsbuild/layerstore';
import { build, type BuildEvent, type BuildOptions } from './index.js';

interface Fixture {
  dir: string;
  store: Store;
  build(dockerfile: string, script?: Script, opts?: Partial<BuildOptions>): Promise<{ id: string; commands: string[]; events: BuildEvent[] }>;
}

/** A context holding `f`, a store, and a build that records what it asked the executor to run. */
async function setup(t: { teardown(fn: () => Promise<void>): void }): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'builder-solver-'));
  const store = await Store.open(join(dir, 'store'));
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  await writeFile(join(dir, 'f'), 'from the context\n');
  return {
    dir,
    store,
    build: async (dockerfile, script = [], opts = {}) => {
      await writeFile(join(dir, 'Dockerfile'), dockerfile);
      const executor = new RecordingExecutor(script);
      const events: BuildEvent[] = [];
      const res = await build({ store, contextDir: dir, executor, onEvent: (e) => events.push(e), ...opts });
      return { id: res.image.id, commands: executor.requests.map(command), events };
    },
  };
}

/** The shell command of a RUN (`/bin/sh -c CMD`). */
function command(req: RunRequest): string {
  return req.process.args.at(-1)!;
}

/** Writes a file named after the command into the step's upper dir. */
function leaveFile(req: RunRequest): Promise<void> {
  return writeFile(join(req.rootfs.upperdir!, command(req)), command(req));
}

test('stages the target does not need are skipped, a stage two others build on is solved once, and independent stages run at the same time', async (t) => {
  const f = await setup(t);
  // a and b each wait for the other to start: solved one after the other, they would never finish.
  const started = new Map<string, () => void>();
  const running = { a: new Promise<void>((r) => started.set('a', r)), b: new Promise<void>((r) => started.set('b', r)) };
  const timeout = (what: string) => new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} never started`)), 5000).unref());
  const script: Script = async (req) => ({
    effect: async () => {
      const cmd = command(req);
      started.get(cmd)?.();
      if (cmd === 'a') await Promise.race([running.b, timeout('b')]);
      if (cmd === 'b') await Promise.race([running.a, timeout('a')]);
      await leaveFile(req);
    },
  });
  const df = 'FROM scratch AS base\nRUN base\nFROM base AS a\nRUN a\nFROM base AS b\nRUN b\nFROM scratch AS unused\nRUN unused\nFROM scratch\nCOPY --from=a /a /a\nCOPY --from=b /b /b /base /\n';
  const { commands } = await f.build(df, script);
  t.deepEqual([...commands].sort(), ['a', 'b', 'base']);
  t.is(commands[0], 'base', 'a and b wait for the stage they build on');
});

test('an unchanged rebuild takes every layer step from the cache: the executor is not asked, each step says cached, the image is the same', async (t) => {
  const f = await setup(t);
  const df = 'FROM scratch\nENV V=1\nRUN one\nCOPY f /f\nWORKDIR /app\n';
  const first = await f.build(df, (req) => ({ effect: () => leaveFile(req) }));
  t.deepEqual(first.commands, ['one']);
  const second = await f.build(df);
  t.deepEqual(second.commands, []);
  t.is(second.id, first.id);
  const done = second.events.flatMap((e) => (e.type === 'step-done' ? [[e.step.name, e.cached] as const] : []));
  t.deepEqual(done, [
    ['[stage-0 1/5] FROM scratch', false],
    ['[stage-0 3/5] RUN one', true],
    ['[stage-0 4/5] COPY f /f', true],
    ['[stage-0 5/5] WORKDIR /app', true],
  ]);
  const noCache = await f.build(df, [], { noCache: true });
  t.deepEqual(noCache.commands, ['one'], '--no-cache runs the step again');
});

test('a changed input misses the cache from that step on, and the step says what changed', async (t) => {
  const f = await setup(t);
  await f.build('FROM scratch\nRUN one\nENV V=1\nRUN two\nCOPY f /f\n');
  const { commands, events } = await f.build('FROM scratch\nRUN one\nENV V=2\nRUN two\nCOPY f /f\n');
  t.deepEqual(commands, ['two']);
  const misses = events.flatMap((e) => (e.type === 'step-progress' ? [`${e.step.name}: ${e.message}`] : []));
  t.deepEqual(misses, ['[stage-0 4/5] RUN two: cache miss: env[1] was "V=1", now "V=2"', '[stage-0 5/5] COPY f /f: cache miss: an earlier step changed']);
});

test('a failed step keeps the cache of the steps before it, and is reported as a step error', async (t) => {
  const f = await setup(t);
  const df = 'FROM scratch\nRUN one\nRUN two\n';
  await t.throwsAsync(f.build(df, (req) => ({ exitCode: command(req) === 'two' ? 1 : 0 })), { message: /exit code: 1/ });
  const { commands } = await f.build(df);
  t.deepEqual(commands, ['two']);
  const failing = new RecordingExecutor([{ exitCode: 3 }]);
  const events: BuildEvent[] = [];
  await t.throwsAsync(build({ store: f.store, contextDir: f.dir, executor: failing, noCache: true, onEvent: (e) => events.push(e) }));
  t.true(events.some((e) => e.type === 'step-error' && e.step.name === '[stage-0 2/3] RUN one' && /exit code: 3/.test(e.message)));
});

test('the ONBUILD triggers of a base image run before the stage\'s own instructions, and the image does not keep them', async (t) => {
  const f = await setup(t);
  await f.build('FROM scratch\nONBUILD RUN trigger\n', [], { tags: ['base:1'] });
  const { id, commands } = await f.build('FROM base:1\nRUN after\n');
  t.deepEqual(commands, ['trigger', 'after']);
  const image = await f.store.resolveImage(id);
  t.is(image.config.config?.OnBuild, undefined);
});
