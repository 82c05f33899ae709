/**
 * A chroot run when tsbuild itself ends: by `kill -9` (its runner dies with it, through
 * PR_SET_PDEATHSIG while it is root and its IPC channel's end once it runs as the
 * command's user, and the watchdog then kills the command's process group) or by
 * process.exit() (the exit hook kills the run and removes its private root). Needs root.
 */
import anyTest from 'ava';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fx, rootfs, rootOnly, sandboxSuite } from '../testing/harness.js';

const test = rootOnly(anyTest);
sandboxSuite(test, { executor: false });

const LIB = new URL('../index.js', import.meta.url).href;
/** The bound of every wait, far above what ending a run takes on a loaded machine; waits end as soon as their condition holds. */
const SLOW = 120_000;

/** Host processes whose command line is `args` exactly, or (with `part`) contains it. */
function processes(match: (cmdline: string) => boolean): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return match(readFileSync(`/proc/${n}/cmdline`, 'latin1'));
      } catch {
        return false;
      }
    })
    .map(Number);
}
const exactly = (...args: string[]) => (c: string) => c === `${args.join('\0')}\0`;

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await sleep(20);
  }
  return cond();
}

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
