/**
 * A chroot run when tsbuild itself ends: by `kill -9` (its runner dies with it, through
 * PR_SET_PDEATHSIG while it is root and its IPC channel's end once it runs as the
 * command's user, and the watchdog then kills the command's process group) or by
 * process.exit() (the exit hook kills the run and removes its private root). Needs root.
 */
import anyTest from 'ava';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fx, rootfs, rootOnly, sandboxSuite } from '../testing/harness.js';
import { exactly, processesMatching, SLOW, waitFor } from '../testing/leaks.js';

const test = rootOnly(anyTest);
sandboxSuite(test, { executor: false });

const LIB = new URL('../index.js', import.meta.url).href;

const processes = processesMatching;


/** A tsbuild stand-in that runs `script` as `user` in chroot isolation and never ends by itself. */
function tsbuildRunning(script: string, user: string, extra = '', env: NodeJS.ProcessEnv = process.env) {
  const code = `
    const { createExecutor } = await import(${JSON.stringify(LIB)});
    const ex = createExecutor({ isolation: 'chroot', poolSize: 1 });
    await ex.run({ rootfs: { lowerdirs: [${JSON.stringify(rootfs)}] }, network: 'host',
      process: { args: ['/bin/sh', '-c', ${JSON.stringify(script)}], env: ['PATH=/bin'], cwd: '/', user: ${JSON.stringify(user)} }${extra} });`;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'ignore', env });
}

for (const [user, n] of [['root', 1100], ['tester', 1102]] as const) {
  test(`kill -9 of tsbuild leaves no process of a chroot run behind (the command as ${user})`, async (t) => {
    const child = tsbuildRunning(`sleep ${n + 1} & exec sleep ${n}`, user);
    const runner = (c: string) => c.includes('chroot/runner.js') && c.endsWith(`\0${child.pid}\0`);
    const sleeps = () => [...processes(exactly('sleep', String(n))), ...processes(exactly('sleep', String(n + 1)))];
    const left = () => [...sleeps(), ...processes(runner)];
    t.true(await waitFor(() => sleeps().length === 2, SLOW), 'the run started');
    t.true(processes(runner).length >= 1, 'its runner is a process of its own');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    t.true(await waitFor(() => left().length === 0, SLOW), `the run died with tsbuild: ${left().join(' ')}`);
  });
}

test('process.exit() while a chroot run runs kills it and removes its private root', async (t) => {
  const tmp = fx.path('tmpdir');
  const child = tsbuildRunning('echo up; exec sleep 1104', 'tester', ', onStdout: () => process.exit(3)', { ...process.env, TMPDIR: tmp });
  const code = await new Promise((r) => child.once('exit', r));
  t.is(code, 3);
  t.true(await waitFor(() => processes(exactly('sleep', '1104')).length === 0, SLOW));
  t.deepEqual(readdirSync(tmp), []);
});
