/**
 * The Executor contract (types.ts), one suite that every implementation runs: the
 * sandbox (createExecutor) and RecordingExecutor, so the fake the builder's tests use
 * promises no more and no less than the real one on these points:
 *
 * - the exit code and everything written to stdout and stderr are delivered;
 * - a non-zero exit is a result, not a rejection;
 * - an already-aborted signal rejects with code TSBUILD_CANCELLED;
 * - run() after close() rejects with code TSBUILD_CANCELLED, and close() may be called again;
 * - durationMs is a number of milliseconds.
 *
 *   executorContract(test, 'the sandbox', (want) => ({ executor: createExecutor(), request: shRequest(want) }));
 */
import type { TestFn } from 'ava';
import type { Executor, RunRequest } from '../types.js';

/** What the request given by a factory must make its executor report. */
export interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A new executor (the suite closes it) and a request that, run by it, produces the outcome asked for. */
export type ContractFactory = (want: Outcome) => { executor: Executor; request: RunRequest } | Promise<{ executor: Executor; request: RunRequest }>;

export function executorContract(test: TestFn<unknown>, name: string, make: ContractFactory): void {
  const run = async (want: Outcome, extra: Partial<RunRequest> = {}) => {
    const { executor, request } = await make(want);
    let stdout = '';
    let stderr = '';
    try {
      const result = await executor.run({ ...request, onStdout: (b) => (stdout += b.toString()), onStderr: (b) => (stderr += b.toString()), ...extra });
      return { result, stdout, stderr };
    } finally {
      await executor.close();
    }
  };

  test(`${name}: the exit code and the output are delivered`, async (t) => {
    const { result, stdout, stderr } = await run({ exitCode: 0, stdout: 'out 1\nout 2\n', stderr: 'err\n' });
    t.is(result.exitCode, 0);
    t.is(stdout, 'out 1\nout 2\n');
    t.is(stderr, 'err\n');
    t.is(typeof result.durationMs, 'number');
    t.true(Number.isFinite(result.durationMs) && result.durationMs >= 0, `durationMs ${result.durationMs}`);
  });

  test(`${name}: a non-zero exit is a result, not a rejection`, async (t) => {
    const { result, stdout, stderr } = await run({ exitCode: 3, stdout: '', stderr: 'boom' });
    t.is(result.exitCode, 3);
    t.is(result.signal, undefined);
    t.is(stdout, '');
    t.is(stderr, 'boom');
  });

  test(`${name}: an already-aborted signal rejects with TSBUILD_CANCELLED`, async (t) => {
    const err = await t.throwsAsync(run({ exitCode: 0, stdout: 'never', stderr: '' }, { signal: AbortSignal.abort() }));
    t.is((err as { code?: unknown } | undefined)?.code, 'TSBUILD_CANCELLED');
  });

  test(`${name}: run after close rejects with TSBUILD_CANCELLED; close may be called again`, async (t) => {
    const { executor, request } = await make({ exitCode: 0, stdout: 'never', stderr: '' });
    await executor.close();
    let out = '';
    const err = await t.throwsAsync(executor.run({ ...request, onStdout: (b) => (out += b.toString()) }));
    t.is((err as { code?: unknown } | undefined)?.code, 'TSBUILD_CANCELLED');
    t.is(out, '');
    await t.notThrowsAsync(executor.close());
    await t.notThrowsAsync(executor.close());
  });
}
