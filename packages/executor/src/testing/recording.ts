/**
 * A fake executor for tests that must not need root (the builder's): it records every
 * request and answers from a script, calling `onStdout`/`onStderr` with the scripted
 * output. A scripted `effect` can stand in for what the command would have changed, e.g.
 * write a file into `req.rootfs.upperdir`.
 *
 * ```ts
 * const ex = new RecordingExecutor([{ stdout: 'hi\n' }, { exitCode: 3 }]);
 * await builder.build({ executor: ex, ... });
 * t.deepEqual(ex.requests.map((r) => r.process.args), [['/bin/sh', '-c', 'echo hi'], ...]);
 * ```
 */
import { ExecutorError } from '../errors.js';
import type { Executor, RunRequest, RunResult } from '../types.js';

export interface ScriptedRun {
  exitCode?: number;
  signal?: string;
  setupError?: string;
  stdout?: string | Buffer;
  stderr?: string | Buffer;
  /** Runs before the result is returned (and before output is delivered). */
  effect?: (req: RunRequest) => void | Promise<void>;
}

export type Script = ScriptedRun[] | ((req: RunRequest, index: number) => ScriptedRun | Promise<ScriptedRun>);

export class RecordingExecutor implements Executor {
  /** Every request received, in order. */
  readonly requests: RunRequest[] = [];
  private closed = false;

  /** A list is consumed in order (exit code 0 and no output once it runs out); a function decides per request. */
  constructor(private readonly script: Script = []) {}

  async run(req: RunRequest): Promise<RunResult> {
    if (this.closed) throw new ExecutorError('TSBUILD_CANCELLED', 'the executor is closed');
    const index = this.requests.push(req) - 1;
    if (req.signal?.aborted) throw new ExecutorError('TSBUILD_CANCELLED', 'run cancelled', { cause: req.signal.reason });
    const s = typeof this.script === 'function' ? await this.script(req, index) : this.script[index] ?? {};
    await s.effect?.(req);
    if (s.stdout !== undefined) req.onStdout?.(Buffer.from(s.stdout));
    if (s.stderr !== undefined) req.onStderr?.(Buffer.from(s.stderr));
    if (req.signal?.aborted) throw new ExecutorError('TSBUILD_CANCELLED', 'run cancelled', { cause: req.signal.reason });
    return {
      exitCode: s.exitCode ?? (s.setupError !== undefined ? 125 : 0),
      ...(s.signal !== undefined ? { signal: s.signal } : {}),
      ...(s.setupError !== undefined ? { setupError: s.setupError } : {}),
      durationMs: 0,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
