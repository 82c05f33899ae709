/**
 * A sandbox's life: cancellation, leftover processes, tsbuild dying under it, streaming,
 * concurrency. Needs root.
 */
import anyTest from 'ava';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ExecutorError } from './errors.js';
import { createExecutor } from './executor.js';
import { sh } from './testing/fixture.js';
import { ex, fx, rootfs, rootOnly, sandboxSuite } from './testing/harness.js';
import { exactly, processesMatching, SLOW, waitFor } from './testing/leaks.js';

const test = rootOnly(anyTest);

sandboxSuite(test, { executor: { poolSize: 3 } });

/** Host processes whose command line is exactly `args`. */
const processesRunning = (args: string[]) => processesMatching(exactly(...args));

/**
 * The bound of every wait here, counted from the moment the command is known to run:
 * far below the sleeps the sandboxes run (1000 s), far above what ending a sandbox takes
 * even in an emulated guest kernel (10-30x slower than the host) on a loaded machine.
 * Waits end as soon as their condition holds, so a generous bound costs nothing when
 * things work.
 */


test('an AbortSignal kills a running sandbox promptly, with every process in it', async (t) => {
  const ac = new AbortController();
  const marker = ['sleep', '1001'];
  let aborted = 0;
  const run = sh(ex, [rootfs], 'sleep 1001 & echo started; exec sleep 1000', {
    signal: ac.signal,
    onStdout: () => {
      aborted = Date.now();
      ac.abort(new Error('user pressed ctrl-c'));
    },
  });
  const err = await t.throwsAsync(run, { instanceOf: ExecutorError });
  t.is(err?.code, 'TSBUILD_CANCELLED');
  t.is((err?.cause as Error).message, 'user pressed ctrl-c');
  t.true(Date.now() - aborted < SLOW, 'killed, not waited for');
  t.deepEqual(processesRunning(marker), []);
});

test('an already aborted signal runs nothing', async (t) => {
  const err = await t.throwsAsync(sh(ex, [rootfs], 'true', { signal: AbortSignal.abort() }), { instanceOf: ExecutorError });
  t.is(err?.code, 'TSBUILD_CANCELLED');
});

test('processes left in the background die when the command exits', async (t) => {
  let said = 0;
  let out = '';
  const r = await sh(ex, [rootfs], 'sleep 1002 & sleep 1003 > /dev/null 2>&1 & echo bye', {
    onStdout: (b) => {
      said ||= Date.now();
      out += b.toString();
    },
  });
  t.is(r.code, 0, r.err);
  t.is(out, 'bye\n');
  t.true(Date.now() - said < SLOW, 'the run did not wait for the leftovers');
  t.deepEqual([...processesRunning(['sleep', '1002']), ...processesRunning(['sleep', '1003'])], []);
});

test('close() kills running sandboxes and waits for them', async (t) => {
  const own = createExecutor({ poolSize: 1 });
  let ready!: () => void;
  const isRunning = new Promise<void>((r) => (ready = r));
  const run = sh(own, [rootfs], 'echo up; exec sleep 1004', { onStdout: () => ready() });
  await isRunning;
  await own.close();
  const err = await t.throwsAsync(run, { instanceOf: ExecutorError });
  t.is(err?.code, 'TSBUILD_CANCELLED');
  t.deepEqual(processesRunning(['sleep', '1004']), []);
  await t.throwsAsync(sh(own, [rootfs], 'true'), { instanceOf: ExecutorError });
});

test('kill -9 of tsbuild leaves no sandbox process behind', async (t) => {
  const lib = new URL('./index.js', import.meta.url).href;
  const rootfsSpec = { lowerdirs: [rootfs], ...fx.layer() };
  const script = `
    const { createExecutor } = await import(${JSON.stringify(lib)});
    const ex = createExecutor({ poolSize: 1 });
    await ex.run({ rootfs: ${JSON.stringify(rootfsSpec)}, network: 'none',
      process: { args: ['/bin/sh', '-c', 'sleep 1006 & exec sleep 1005'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } } });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  t.true(await waitFor(() => processesRunning(['sleep', '1005']).length === 1 && processesRunning(['sleep', '1006']).length === 1, SLOW), 'the sandbox started');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.true(await waitFor(() => processesRunning(['sleep', '1005']).length + processesRunning(['sleep', '1006']).length === 0, SLOW), 'the sandbox died with tsbuild');
});

test('process.exit() while a sandbox runs kills it and removes its throwaway layer', async (t) => {
  const lib = new URL('./index.js', import.meta.url).href;
  const tmp = fx.path('tmpdir');
  const script = `
    const { createExecutor } = await import(${JSON.stringify(lib)});
    const ex = createExecutor({ poolSize: 1 });
    void ex.run({ rootfs: { lowerdirs: [${JSON.stringify(rootfs)}] }, network: 'none',
      process: { args: ['/bin/sh', '-c', 'echo up; exec sleep 1007'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
      onStdout: () => process.exit(3) });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } });
  const code = await new Promise((r) => child.once('exit', r));
  t.is(code, 3);
  t.true(await waitFor(() => processesRunning(['sleep', '1007']).length === 0, SLOW));
  t.deepEqual(readdirSync(tmp), []);
});

test('stdin can be a stream', async (t) => {
  const r = await sh(ex, [rootfs], 'tr a-z A-Z', { stdin: Readable.from(['hello ', 'world\n']) });
  t.is(r.code, 0, r.err);
  t.is(r.out, 'HELLO WORLD\n');
});

test('large output is streamed completely, stdout and stderr apart', async (t) => {
  let bytes = 0;
  let err = '';
  const r = await ex.run({
    rootfs: { lowerdirs: [rootfs] },
    network: 'none',
    process: { args: ['/bin/sh', '-c', 'head -c 5000000 /dev/zero; echo to-stderr >&2'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
    onStdout: (b) => (bytes += b.length),
    onStderr: (b) => (err += b.toString()),
  });
  t.is(r.exitCode, 0);
  t.is(bytes, 5_000_000);
  t.is(err, 'to-stderr\n');
});

test('sandboxes run concurrently without seeing each other', async (t) => {
  const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => sh(ex, [rootfs], `echo ${i} > /tmp/me; sleep 0.2; cat /tmp/me; ls /proc | grep -c '^[0-9]'`)));
  t.deepEqual(runs.map((r) => r.out.trim().split('\n')[0]), ['0', '1', '2', '3', '4', '5']);
  for (const r of runs) t.true(Number(r.out.trim().split('\n')[1]) <= 4, r.out);
});

test('orphans are reaped inside the sandbox', async (t) => {
  // Each `sh -c 'true &'` leaves an orphan that the init must reap; zombies would pile up.
  // The shell waits until none is left (the init reaps when it gets to it; on a loaded
  // machine that is not at once), up to a bound far beyond any scheduling delay.
  const zombies = `grep -l '^State:.*Z' /proc/[0-9]*/status | wc -l`;
  const r = await sh(ex, [rootfs], `for i in 1 2 3 4 5 6 7 8; do sh -c 'true &'; done; i=0; while [ "$(${zombies})" != 0 ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; ${zombies}`);
  t.is(r.code, 0, r.err);
  t.is(r.out.trim(), '0');
});
