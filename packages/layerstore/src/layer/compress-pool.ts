/**
 * A small pool of worker threads that compress chunks into gzip members or zstd frames,
 * shared by every layer this process compresses.
 *
 * Lifecycle: workers start lazily on the first task (up to `size`), stay for later
 * layers, and are unref'd while idle so an idle pool never keeps the process alive.
 * A worker that dies fails its task and is replaced on the next one. `close()` ends
 * them all (tests; the CLI just exits).
 *
 *   const pool = new CompressPool({ size: 2 });
 *   const { out } = await pool.encode('gzip', chunk, chunk.length, 6);  // chunk's memory is transferred
 *   await pool.close();
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LayerstoreError } from '../errors.js';
import type { ChunkFormat } from './chunk-codec.js';
import type { ChunkReply, ChunkRequest } from './compress-worker.js';

/** A compressed chunk, and the input buffer back for reuse (it was transferred twice). */
export interface Encoded {
  out: Buffer;
  input: Buffer;
}

interface Task {
  req: ChunkRequest;
  owner: object | undefined;
  resolve: (res: Encoded) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
}

const WORKER_URL = new URL('./compress-worker.js', import.meta.url);

export interface PoolOptions {
  /** Worker threads (default: the number of CPUs this process may use). */
  size?: number;
  /** The workers' entry point (tests: one that dies); default compress-worker.js. */
  workerUrl?: URL;
}

export class CompressPool {
  readonly size: number;
  private readonly workerUrl: URL;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: PoolOptions = {}) {
    this.size = Math.max(1, Math.floor(opts.size ?? availableParallelism()));
    this.workerUrl = opts.workerUrl ?? WORKER_URL;
  }

  /**
   * Compress `buf[0, length)` into one gzip member or zstd frame. `buf.buffer` is
   * transferred to a worker: the caller must own all of it (e.g. `Buffer.allocUnsafeSlow`)
   * and not touch it afterwards; it comes back as `input`. `owner` lets `cancel(owner)`
   * drop tasks not yet started.
   */
  encode(format: ChunkFormat, buf: Uint8Array, length: number, level: number, owner?: object): Promise<Encoded> {
    if (this.closed) return Promise.reject(new LayerstoreError('TSBUILD_UNSUPPORTED', 'compression pool is closed'));
    // The caller's bug, never a user's failure.
    if (buf.byteOffset !== 0 || buf.buffer.byteLength < length) throw new RangeError('CompressPool.encode needs a buffer that owns its memory');
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, format, buf: buf.buffer as ArrayBuffer, length, level }, owner, resolve, reject });
      this.dispatch();
    });
  }

  /** Drop the queued (not yet started) tasks of `owner`; they reject with an AbortError. */
  cancel(owner: object): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const task = this.queue[i]!;
      if (task.owner !== owner) continue;
      this.queue.splice(i, 1);
      // An AbortError as Node names a cancellation, not a typed error: only the stream that
      // owned the task, already destroyed, waits for it; it never reaches a user.
      const err = new Error('compression cancelled');
      err.name = 'AbortError';
      task.reject(err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelAll();
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private cancelAll(): void {
    for (const task of this.queue.splice(0)) task.reject(new LayerstoreError('TSBUILD_UNSUPPORTED', 'compression pool is closed'));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.task === undefined);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      slot.worker.postMessage(task.req, [task.req.buf]);
    }
  }

  private spawn(): Slot {
    // No execArgv: the worker needs no flags, and some of the parent's (--input-type, -e)
    // would stop it from starting.
    const worker = new Worker(this.workerUrl, { name: 'tsbuild-compress', execArgv: [] });
    const slot: Slot = { worker, task: undefined };
    worker.unref();
    worker.on('message', (reply: ChunkReply) => {
      const task = slot.task;
      if (!task || task.req.id !== reply.id) return;
      slot.task = undefined;
      worker.unref();
      if ('error' in reply) task.reject(new LayerstoreError('TSBUILD_UNSUPPORTED', `${task.req.format}: ${reply.error}`));
      else task.resolve({ out: Buffer.from(reply.out), input: Buffer.from(reply.buf) });
      this.dispatch();
    });
    const fail = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i === -1) return;
      this.slots.splice(i, 1);
      slot.task?.reject(new LayerstoreError('TSBUILD_UNSUPPORTED', `compression worker failed: ${err.message}`, { cause: err }));
      slot.task = undefined;
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with status ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}

let shared: CompressPool | undefined;

/** The process-wide pool (sized to the CPU count), created on first use. */
export function sharedPool(): CompressPool {
  shared ??= new CompressPool();
  return shared;
}
