/**
 * The CLI's stdout and stderr, guarded: a write error on either (EPIPE once `| head -1`
 * has closed the pipe, ENOSPC on a full disk) must not end in an unhandled 'error' event
 * and a Node stack trace. The first error is recorded, `onClosed` runs (the CLI aborts the
 * command, so a container is killed and torn down like on Ctrl-C), and what is written
 * afterwards is dropped by the destroyed stream.
 *
 * Exit status afterwards: a closed pipe ends the command quietly with 141 (128 + SIGPIPE,
 * what a shell reports for `yes` in `yes | head -1`); any other write error is reported on
 * stderr (while it works) in one line and gives 1.
 *
 *   const guard = new OutputGuard({ stdout: process.stdout, stderr: process.stderr }, () => controller.abort());
 *   ... run the command ...
 *   await guard.settle();
 *   if (guard.closed) return guard.report();
 */
import { setImmediate as nextLoop } from 'node:timers/promises';

export type GuardedStream = NodeJS.WritableStream & { destroyed?: boolean };

export interface ClosedOutput {
  stream: 'stdout' | 'stderr';
  error: NodeJS.ErrnoException;
}

/** 128 + SIGPIPE: the status of a process a closed pipe ended. */
export const BROKEN_PIPE_EXIT = 141;

export class OutputGuard {
  closed: ClosedOutput | undefined;
  private readonly failed = new Set<'stdout' | 'stderr'>();

  constructor(
    private readonly streams: { stdout: GuardedStream; stderr: GuardedStream },
    private readonly onClosed: (closed: ClosedOutput) => void,
  ) {
    for (const name of ['stdout', 'stderr'] as const) {
      streams[name].on('error', (error: NodeJS.ErrnoException) => this.failure(name, error));
    }
  }

  private failure(stream: 'stdout' | 'stderr', error: NodeJS.ErrnoException): void {
    this.failed.add(stream);
    if (this.closed) return;
    this.closed = { stream, error };
    this.onClosed(this.closed);
  }

  /** Let write errors still on their way (reported on a later tick) arrive. */
  async settle(): Promise<void> {
    await nextLoop();
  }

  /** After a failure: say what failed when it was not a closed pipe; returns the exit status. */
  report(): number {
    const c = this.closed;
    if (!c) return 0;
    if (c.error.code === 'EPIPE') return BROKEN_PIPE_EXIT;
    if (!this.failed.has('stderr')) {
      this.streams.stderr.write(`tsbuild: write /dev/${c.stream}: ${describeErrno(c.error)}\n`);
    }
    return 1;
  }
}

function describeErrno(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOSPC') return 'no space left on device';
  return err.code ?? err.message;
}
