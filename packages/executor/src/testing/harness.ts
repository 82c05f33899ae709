/**
 * The frame every sandbox test file shares: before its tests, a snapshot of the host,
 * a Fixture with a busybox rootfs and (unless the file makes its own) one executor; after
 * them, the check that no mount, process or zombie of ours is left, and the cleanup.
 *
 *   import { ex, fx, rootfs, rootOnly, sandboxSuite } from './testing/harness.js';
 *   const test = rootOnly(anyTest);
 *   sandboxSuite(test, { executor: { poolSize: 3 } });
 *   test('...', async (t) => { const r = await sh(ex, [rootfs], 'true'); ... });
 *
 * `fx`, `rootfs` and `ex` are live bindings, set when the file's `before` hook runs (each
 * test file runs in a process of its own, so each has its own); a file's own `before`
 * hooks, registered after sandboxSuite(), run after it and may use them.
 */
import type { TestFn } from 'ava';
import { createExecutor, type ExecutorOptions } from '../executor.js';
import type { Executor } from '../types.js';
import { Fixture } from './fixture.js';
import { descendants, newMounts, snapshotHost, zombies, type HostSnapshot } from './leaks.js';

export let fx: Fixture;
/** A busybox rootfs with /etc/passwd, /etc/group and the usual mount points. */
export let rootfs: string;
/** The file's executor; undefined with `executor: false`. */
export let ex: Executor;

export interface SandboxSuiteOptions {
  /** Options of the file's executor, or false when the file makes its own. */
  executor?: ExecutorOptions | false;
  /** Title of the leftover check. */
  title?: string;
  /** Other leftovers that must be none, checked after the mounts (e.g. run cgroups). */
  leftovers?: () => unknown[];
  /** Closes what the file made itself (its executors): before the leftover check, and again at the end. */
  close?: () => Promise<unknown>;
}

/** `anyTest` when running as root, else its `skip` (the sandbox needs root). */
export function rootOnly(anyTest: TestFn<unknown>): TestFn<unknown> {
  return (process.getuid?.() === 0 ? anyTest : anyTest.skip) as TestFn<unknown>;
}

export function sandboxSuite(test: TestFn<unknown>, opts: SandboxSuiteOptions = {}): void {
  let before: HostSnapshot;

  test.before(() => {
    before = snapshotHost();
    fx = new Fixture();
    rootfs = fx.rootfs();
    if (opts.executor !== false) ex = createExecutor(opts.executor ?? {});
  });

  test.after.always(async () => {
    await opts.close?.();
    await ex?.close();
    fx?.cleanup();
  });

  test.after(opts.title ?? 'no mount and no process of ours is left on the host', async (t) => {
    // Closed first: what an executor keeps ready (the chroot mode's runner processes) goes with it.
    await opts.close?.();
    await ex?.close();
    t.deepEqual(newMounts(before, [fx.dir]), []);
    if (opts.leftovers) t.deepEqual(opts.leftovers(), []);
    t.deepEqual(descendants(), []);
    t.deepEqual(zombies(), []);
  });
}
