/**
 * The worker pool: a worker that fails or ends before it is ready makes the run that
 * takes it fail with a typed ExecutorError (TSBUILD_SANDBOX_SETUP), not a bare Error.
 * The workers here are one-line modules (data: URLs) standing in for the sandbox worker.
 */
import test from 'ava';
import { isTsbuildError } from '@tsbuild/errors';
import { ExecutorError } from './errors.js';
import { WorkerPool } from './pool.js';

const module = (source: string) => new URL(`data:text/javascript,${encodeURIComponent(source)}`);

async function takeFrom(source: string): Promise<unknown> {
  const pool = new WorkerPool(1, { workerUrl: module(source) });
  try {
    await pool.take();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await pool.close();
  }
}

test('a worker that throws while starting: TSBUILD_SANDBOX_SETUP with the error as its cause', async (t) => {
  const err = await takeFrom('throw new Error("dying on purpose")');
  t.true(err instanceof ExecutorError && isTsbuildError(err), String(err));
  const e = err as ExecutorError;
  t.is(e.code, 'TSBUILD_SANDBOX_SETUP');
  t.is(e.message, 'sandbox worker failed before it was ready: dying on purpose');
  t.is((e.cause as Error).message, 'dying on purpose');
});

test('a worker that ends without saying it is ready: TSBUILD_SANDBOX_SETUP naming its exit status', async (t) => {
  const err = await takeFrom('');
  t.true(err instanceof ExecutorError, String(err));
  t.is((err as ExecutorError).code, 'TSBUILD_SANDBOX_SETUP');
  t.is((err as ExecutorError).message, 'sandbox worker exited (0) before it was ready');
});

test('a pool whose worker failed starts a new one for the next run', async (t) => {
  const pool = new WorkerPool(1, { workerUrl: module('throw new Error("once")') });
  await t.throwsAsync(pool.take(), { instanceOf: ExecutorError, code: 'TSBUILD_SANDBOX_SETUP' });
  await t.throwsAsync(pool.take(), { instanceOf: ExecutorError, message: /once/ });
  await pool.close();
});
