/**
 * The compression pool when a worker dies in the middle of a task: the task fails with a
 * typed LayerstoreError naming what happened, and the next task gets a new worker. The
 * dying workers are one-line modules (data: URLs) standing in for compress-worker.js.
 */
import test from 'ava';
import { isTsbuildError } from '@tsbuild/errors';
import { LayerstoreError } from '../errors.js';
import { CompressPool } from './compress-pool.js';

const module = (source: string) => new URL(`data:text/javascript,${encodeURIComponent(source)}`);
const chunk = () => Buffer.allocUnsafeSlow(1024).fill(7);

async function encodeWith(source: string): Promise<unknown> {
  const pool = new CompressPool({ size: 1, workerUrl: module(source) });
  try {
    await pool.encode('gzip', chunk(), 1024, 6);
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await pool.close();
  }
}

test('a worker that throws on its task: the task rejects with a LayerstoreError whose cause is the error', async (t) => {
  const err = await encodeWith(`import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => { throw new Error('dying mid-task'); });`);
  t.true(err instanceof LayerstoreError && isTsbuildError(err), String(err));
  const e = err as LayerstoreError;
  t.is(e.code, 'TSBUILD_UNSUPPORTED');
  t.is(e.message, 'compression worker failed: dying mid-task');
  t.is((e.cause as Error).message, 'dying mid-task');
});

test('a worker that ends on its task without answering: the task rejects with a LayerstoreError naming the exit status', async (t) => {
  const err = await encodeWith(`import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => parentPort.close());`);
  t.true(err instanceof LayerstoreError, String(err));
  t.is((err as LayerstoreError).message, 'compression worker failed: exited with status 0');
});

test('after a worker died, the next task gets a new worker', async (t) => {
  // Each worker answers its first task by dying: both tasks fail, each on its own worker.
  const pool = new CompressPool({ size: 1, workerUrl: module(`import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => { throw new Error('again'); });`) });
  await t.throwsAsync(pool.encode('gzip', chunk(), 1024, 6), { instanceOf: LayerstoreError, message: /again/ });
  await t.throwsAsync(pool.encode('zstd', chunk(), 1024, 3), { instanceOf: LayerstoreError, message: /again/ });
  await pool.close();
});
