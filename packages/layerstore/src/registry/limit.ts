/** A counting semaphore: at most `max` tasks of a client run at once (parallel blob transfers). */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly max: number) {
    // The caller's bug, never a user's failure (no flag sets it).
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`concurrency must be a positive integer, got ${max}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * Run every task (bounded by `limiter`); on the first failure abort the others through
 * `controller` and, once all have settled, throw that failure (never an abort it caused).
 */
export async function allOrAbort<T>(limiter: Limiter, controller: AbortController, tasks: Array<() => Promise<T>>): Promise<T[]> {
  let first: { error: unknown } | undefined;
  const results = await Promise.allSettled(
    tasks.map((task) =>
      limiter.run(async () => {
        controller.signal.throwIfAborted();
        return task();
      }).catch((error: unknown) => {
        if (!first && !controller.signal.aborted) {
          first = { error };
          controller.abort();
        }
        throw error;
      }),
    ),
  );
  if (first) throw first.error;
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
