/**
 * Pre-started chroot runners (runner.ts): each a node process of its own, used for one
 * run, started with an IPC channel (advanced serialization, so output arrives as bytes
 * and stamps keep their bigints). Starting one costs tens of milliseconds of CPU, so a
 * few are kept ready; idle ones never keep tsbuild alive. A runner dies with tsbuild
 * (PR_SET_PDEATHSIG, set by the runner itself) and ends when its channel closes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ExecutorError } from '../errors.js';
import type { FromChroot, ToChroot } from './protocol.js';

const RUNNER = fileURLToPath(new URL('./runner.js', import.meta.url));
/** The end of a runner's stderr kept for the error when it fails (it prints nothing otherwise). */
const STDERR_KEEP = 4096;

export interface Runner {
  child: ChildProcess;
  pid: number;
  send(m: ToChroot): void;
  /** What the runner wrote to its stderr (an uncaught error), its last STDERR_KEEP bytes. */
  stderr(): string;
}

function notReady(message: string): ExecutorError {
  return new ExecutorError('TSBUILD_SANDBOX_SETUP', message);
}

interface Starting {
  child: ChildProcess;
  ready: Promise<Runner>;
}

function start(): Starting {
  // None of tsbuild's node options: with -e or -p they hold a program, which the runner would run instead.
  const child = fork(RUNNER, [String(process.pid)], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-STDERR_KEEP)));
  idle(child, true);
  const ready = new Promise<Runner>((resolve, reject) => {
    const onError = (e: Error) => reject(notReady(`chroot runner failed before it was ready: ${e.message}`));
    const onExit = (code: number | null, signal: string | null) => reject(notReady(`chroot runner exited (${signal ?? code}) before it was ready${err ? `: ${err.trim()}` : ''}`));
    child.once('error', onError);
    child.once('exit', onExit);
    child.once('message', (m: FromChroot) => {
      child.off('error', onError);
      child.off('exit', onExit);
      if (m.type !== 'ready') {
        child.kill('SIGKILL');
        return reject(notReady(`unexpected first message ${m.type} from a chroot runner`));
      }
      resolve({ child, pid: m.pid, send: (msg) => child.send(msg), stderr: () => err });
    });
  });
  // A start whose failure is reported by the run that takes it, not as an unhandled rejection.
  ready.catch(() => {});
  return { child, ready };
}

/** An idle runner does not keep tsbuild's event loop alive; a taken one does. */
function idle(child: ChildProcess, yes: boolean): void {
  // The stderr pipe is a net.Socket (stdio 'pipe'), which can be unref'd.
  for (const h of [child, child.channel, child.stderr as Socket | null]) {
    if (yes) h?.unref();
    else h?.ref();
  }
}

export class RunnerPool {
  private readonly ready: Starting[] = [];
  private closed = false;

  constructor(private readonly size: number) {
    for (let i = 0; i < size; i++) this.ready.push(start());
  }

  /** A ready runner, removed from the pool; call refill() once its command has started. */
  async take(): Promise<Runner> {
    const s = this.ready.shift() ?? start();
    // Waited for: it keeps tsbuild alive from now on.
    idle(s.child, false);
    return s.ready;
  }

  /** Start a replacement (after the taken runner's setup, so the two do not compete for CPU). */
  refill(): void {
    if (!this.closed && this.ready.length < this.size) this.ready.push(start());
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.ready.splice(0).map((s) => discard(s.child)));
  }
}

/** End a runner that ran nothing. */
export async function discard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  // Waited for, so it keeps tsbuild alive until then.
  idle(child, false);
  child.kill('SIGKILL');
  await gone;
}
