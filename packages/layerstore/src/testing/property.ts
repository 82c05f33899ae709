/**
 * Property runs over hostile input (fast-check), for the parsers and matchers of every
 * package: how many inputs and from which seed, a bound on each input's work, and the
 * rule that an input ends in a result or a typed error.
 *
 * The test suites run PROPERTY_RUNS inputs each (200 unless TSBUILD_FUZZ_RUNS says
 * otherwise) from a fixed seed, so CI sees the same inputs every time;
 * `bench/fuzz.sh` runs 100,000 or more from a seed it chooses and prints.
 *
 * Every case runs under `bounded()`: a case that takes longer than CASE_BUDGET_MS (far
 * above the milliseconds any of them needs) fails the property, with its input shrunk by
 * fast-check; one that never returns is ended by a watchdog thread after
 * 2 x CASE_BUDGET_MS, which writes the input to stderr and kills the test process (a
 * busy loop cannot be interrupted from inside).
 *
 *   fc.assert(fc.property(fc.string(), bounded((s) => { tally.add(outcome(() => f(s), codeOf)); })), propertyParameters());
 *
 * Only `import type` from fast-check here: the packages that use it list it as a
 * devDependency, and importing this module never loads it.
 */
import type { Parameters } from 'fast-check';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';

export const PROPERTY_RUNS = positive(process.env.TSBUILD_FUZZ_RUNS) ?? 200;
export const PROPERTY_SEED = Number.parseInt(process.env.TSBUILD_FUZZ_SEED ?? '', 10) || 20261207;
export const CASE_BUDGET_MS = positive(process.env.TSBUILD_FUZZ_CASE_BUDGET_MS) ?? 20_000;

function positive(text: string | undefined): number | undefined {
  const n = Number.parseInt(text ?? '', 10);
  return n > 0 ? n : undefined;
}

/** fast-check's parameters for one property: the shared run count and seed, then `extra`. */
export function propertyParameters<T>(extra: Parameters<T> = {}): Parameters<T> {
  return { numRuns: PROPERTY_RUNS, seed: PROPERTY_SEED, includeErrorInReport: true, ...extra };
}

/**
 * 'ok' when `run` returns, the code `typed` gives for what it throws, or the throw itself
 * when `typed` gives none (an untyped exception fails the property).
 */
export function outcome(run: () => unknown, typed: (err: unknown) => string | undefined): string {
  try {
    run();
    return 'ok';
  } catch (err) {
    const code = typed(err);
    if (code === undefined) throw err;
    return code;
  }
}

/** outcome() of an async run. */
export async function outcomeAsync(run: () => Promise<unknown>, typed: (err: unknown) => string | undefined): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (err) {
    const code = typed(err);
    if (code === undefined) throw err;
    return code;
  }
}

/** How often each outcome was seen, for the fuzz report: `ok 61.2%, TSBUILD_X 38.8% (of 200)`. */
export class Tally {
  readonly #counts = new Map<string, number>();
  #total = 0;

  add(what: string): void {
    this.#counts.set(what, (this.#counts.get(what) ?? 0) + 1);
    this.#total++;
  }

  has(what: string): boolean {
    return this.#counts.has(what);
  }

  get size(): number {
    return this.#counts.size;
  }

  toString(): string {
    const parts = [...this.#counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${((100 * n) / this.#total).toFixed(1)}%`);
    return `${parts.join(', ')} (of ${this.#total})`;
  }
}

/** [case number, running flag, start time in ms since the epoch (two halves)] */
const state = new Int32Array(new SharedArrayBuffer(16));
const INPUT_BYTES = 8192;
const input = new Uint8Array(new SharedArrayBuffer(INPUT_BYTES + 4));
let watchdog: Worker | undefined;

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { state, input, limit } = workerData;
setInterval(() => {
  if (Atomics.load(state, 1) !== 1) return;
  const started = Atomics.load(state, 2) * 2 ** 16 + Atomics.load(state, 3);
  if (Date.now() - started < limit) return;
  const length = new DataView(input.buffer).getUint32(0);
  const text = Buffer.from(input.buffer, 4, length).toString();
  writeSync(2, 'property case ' + Atomics.load(state, 0) + ' ran for more than ' + limit + ' ms; its input:\\n' + text + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 500);
`;

function startWatchdog(): void {
  if (watchdog) return;
  watchdog = new Worker(WATCHDOG, { eval: true, workerData: { state, input, limit: 2 * CASE_BUDGET_MS } });
  watchdog.unref();
}

function enter(args: unknown[]): void {
  startWatchdog();
  const text = Buffer.from(inspect(args.length === 1 ? args[0] : args, { depth: 6, maxStringLength: 4000, breakLength: Infinity }));
  const length = Math.min(text.length, INPUT_BYTES);
  input.set(text.subarray(0, length), 4);
  new DataView(input.buffer).setUint32(0, length);
  const now = Date.now();
  Atomics.store(state, 2, Math.floor(now / 2 ** 16));
  Atomics.store(state, 3, now % 2 ** 16);
  Atomics.add(state, 0, 1);
  Atomics.store(state, 1, 1);
}

function leave(started: number): void {
  Atomics.store(state, 1, 0);
  const ms = Date.now() - started;
  if (ms > CASE_BUDGET_MS) throw new Error(`the case took ${ms} ms, over the budget of ${CASE_BUDGET_MS} ms`);
}

/** `check` with a time budget per case and a watchdog for cases that never return. */
export function bounded<A extends unknown[], R>(check: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => {
    enter(args);
    const started = Date.now();
    let result: R;
    try {
      result = check(...args);
    } catch (err) {
      Atomics.store(state, 1, 0);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => {
          leave(started);
          return value;
        },
        (err: unknown) => {
          Atomics.store(state, 1, 0);
          throw err;
        },
      ) as R;
    }
    leave(started);
    return result;
  };
}
