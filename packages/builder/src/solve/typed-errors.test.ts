/**
 * What the solver makes of an error a step throws: a typed error of any package (the
 * executor's, the layer store's) becomes a located TSBUILD_STEP_FAILED BuildError with it
 * as the cause, decided by its class (a look-alike with a TSBUILD_ code is not typed); a
 * bare Error (a bug) passes through with its stack. The CLI's exit status stays 1.
 */
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTsbuildError } from '@tsbuild/errors';
import { ExecutorError } from '@tsbuild/executor';
import { RecordingExecutor } from '@tsbuild/executor/testing';
import { LayerstoreError, Store } from '@tsbuild/layerstore';
import { describeError, exitStatus } from '../cli/exit-status.js';
import { BuildError } from '../errors.js';
import { build } from './index.js';

/** Builds FROM scratch + one RUN whose executor throws `thrown`; resolves with what the build rejected with. */
async function failRunWith(t: { teardown(fn: () => Promise<void>): void }, thrown: unknown): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'builder-typed-'));
  const store = await Store.open(join(dir, 'store'));
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nRUN make\n');
  const executor = new RecordingExecutor(() => {
    throw thrown;
  });
  return build({ store, contextDir: dir, executor }).then(
    () => undefined,
    (err: unknown) => err,
  );
}

const typed = [
  ['the executor', new ExecutorError('TSBUILD_SANDBOX_SETUP', 'sandbox worker exited (1) before it was ready')],
  ['the layer store', new LayerstoreError('TSBUILD_STORE_IO', 'write blob: EIO')],
] as const;

for (const [from, thrown] of typed) {
  test(`a typed error from ${from}: a TSBUILD_STEP_FAILED BuildError at the RUN's line, the error its cause`, async (t) => {
    const err = await failRunWith(t, thrown);
    t.true(err instanceof BuildError, String(err));
    const e = err as BuildError;
    t.is(e.code, 'TSBUILD_STEP_FAILED');
    t.is(e.cause, thrown);
    t.is(e.message, thrown.message);
    t.deepEqual(e.location, { file: 'Dockerfile', startLine: 2, endLine: 2 });
    t.is(describeError(e), `Dockerfile:2: ${thrown.message}`);
    t.is(exitStatus(e), 1);
  });
}

test('a BuildError from a step keeps its code and gets the line', async (t) => {
  const err = await failRunWith(t, new BuildError('TSBUILD_NOT_ALLOWED', 'not here'));
  t.true(err instanceof BuildError);
  t.is((err as BuildError).code, 'TSBUILD_NOT_ALLOWED');
  t.is(describeError(err), 'Dockerfile:2: not here');
});

test('an untyped Error passes through, even one whose code looks like a TSBUILD_ code', async (t) => {
  const bug = new Error('a bug');
  t.is(await failRunWith(t, bug), bug);
  const lookalike = Object.assign(new Error('not ours'), { code: 'TSBUILD_STEP_FAILED' });
  const err = await failRunWith(t, lookalike);
  t.is(err, lookalike);
  t.false(isTsbuildError(err));
  t.regex(describeError(err), /^Error: not ours\n\s+at /);
  t.is(exitStatus(err), 1);
});
