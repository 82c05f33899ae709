/**
 * Pre-started sandbox workers. A worker is used for one run only (its thread ends inside
 * the sandbox's namespaces with dropped credentials), so each one taken is replaced in
 * the background once its run is over. Starting a worker costs tens of milliseconds; keeping a few ready takes
 * that off the path of a run. Idle workers are unref'd: they never keep tsbuild alive.
 */
import { Worker } from 'node:worker_threads';
import { ExecutorError } from './errors.js';
import { close } from './libc.js';
import type { FromWorker } from './protocol.js';
import type { NetworkHandoff } from './sandbox/network.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

export interface ReadyWorker {
  worker: Worker;
  tid: number;
  /** A prewarmed private network (PoolOptions.prewarmNetwork), handed off by the worker. */
  network?: NetworkHandoff;
  /** The worker's side of it, closed here if the worker is discarded unused. */
  prewarmFds?: number[];
  /** What the executor attached to it (the network's helper), stopped on discard. */
  attached?: { stop(): void };
}

export interface PoolOptions {
  /** Each worker makes a private network namespace as soon as it starts (sandbox/network.ts). */
  prewarmNetwork?: boolean;
  /** Called once per worker when it is ready (before anyone can take it). */
  onReady?: (w: ReadyWorker) => void;
  /** The worker's entry point (tests: one that fails); default the sandbox worker. */
  workerUrl?: URL;
}

/** A worker that ended or failed before it was ready: the run that takes it fails with this. */
function notReady(message: string, cause?: Error): ExecutorError {
  return new ExecutorError('TSBUILD_SANDBOX_SETUP', message, cause ? { cause } : undefined);
}

function start(opts: PoolOptions): Promise<ReadyWorker> {
  // A worker inherits tsbuild's execArgv; --input-type (tsbuild started with -e) would
  // make Node refuse the worker's file entry point.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const worker = new Worker(opts.workerUrl ?? WORKER_URL, { execArgv, stdout: false, stderr: false, workerData: { prewarmNetwork: opts.prewarmNetwork ?? false } });
  worker.unref();
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(notReady(`sandbox worker failed before it was ready: ${err.message}`, err));
    const onExit = (code: number) => reject(notReady(`sandbox worker exited (${code}) before it was ready`));
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.once('message', (m: FromWorker) => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (m.type !== 'ready') return reject(notReady(`unexpected first message ${m.type} from a sandbox worker`));
      const w: ReadyWorker = { worker, tid: m.tid, ...(m.network ? { network: m.network, prewarmFds: m.prewarmFds ?? [] } : {}) };
      opts.onReady?.(w);
      resolve(w);
    });
  });
}

export class WorkerPool {
  private readonly idle: Array<Promise<ReadyWorker>> = [];
  private closed = false;

  constructor(private readonly size: number, private readonly opts: PoolOptions = {}) {
    for (let i = 0; i < size; i++) this.idle.push(this.guarded());
  }

  /** A ready worker, removed from the pool; call refill() once its sandbox is set up. */
  async take(): Promise<ReadyWorker> {
    const w = await (this.idle.shift() ?? start(this.opts));
    w.worker.ref();
    return w;
  }

  /**
   * Start a replacement. Called once the run that took a worker has set up its sandbox
   * rather than when it takes it: a starting worker costs tens of milliseconds of CPU,
   * which would otherwise compete with that setup.
   */
  refill(): void {
    if (!this.closed && this.idle.length < this.size) this.idle.push(this.guarded());
  }

  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    await Promise.all(idle.map(async (p) => {
      const w = await p.catch(() => undefined);
      if (w) await discard(w);
    }));
  }

  /** A start whose failure is reported by the run that takes it, not as an unhandled rejection. */
  private guarded(): Promise<ReadyWorker> {
    const p = start(this.opts);
    p.catch(() => {});
    return p;
  }
}

/** End a worker that ran nothing: its thread, its prewarmed network and the fds it left. */
export async function discard(w: ReadyWorker): Promise<void> {
  w.attached?.stop();
  await w.worker.terminate();
  for (const fd of w.prewarmFds ?? []) close(fd);
}
