/**
 * cgroup limits: memory, pids and CPU, checked by what the command can and cannot do and
 * by the cgroup files on the host while it runs. Needs root.
 */
import anyTest, { type TestFn } from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExecutorError } from './errors.js';
import { createExecutor } from './executor.js';
import { Fixture, sh } from './testing/fixture.js';
import { descendants, newMounts, snapshotHost, zombies, type HostSnapshot } from './testing/leaks.js';
import type { Executor } from './types.js';

const test = (process.getuid?.() === 0 ? anyTest : anyTest.skip) as TestFn<unknown>;

let fx: Fixture;
let ex: Executor;
let rootfs: string;
let before: HostSnapshot;

test.before(() => {
  before = snapshotHost();
  fx = new Fixture();
  rootfs = fx.rootfs();
  ex = createExecutor();
});

test.after.always(async () => {
  await ex?.close();
  fx?.cleanup();
});

test.after('no mount and no process of ours is left on the host', (t) => {
  t.deepEqual(newMounts(before, [fx.dir]), []);
  t.deepEqual(descendants(), []);
  t.deepEqual(zombies(), []);
});

const MiB = 1 << 20;

/** The host path of the sandbox's cgroup for `controller`, from the `/proc/self/cgroup` the command printed. */
function hostCgroup(out: string, controller: string): string {
  const line = out.split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
  if (!line) throw new Error(`no ${controller} cgroup in ${JSON.stringify(out)}`);
  return `/sys/fs/cgroup/${controller}${line.split(':')[2]}`;
}

test('a 32 MiB memory limit kills a command that allocates 100 MB with 137', async (t) => {
  const run = (memoryBytes?: number) =>
    ex.run({
      rootfs: { lowerdirs: [rootfs] },
      network: 'none',
      ...(memoryBytes ? { limits: { memoryBytes } } : {}),
      // busybox dd allocates its block buffer and read() fills it: 100 MB resident.
      process: { args: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
    });
  const limited = await run(32 * MiB);
  t.is(limited.exitCode, 137);
  t.is(limited.signal, 'SIGKILL');
  t.is((await run()).exitCode, 0, 'without the limit the same command succeeds');
});

test('the cgroup carries the limits while the command runs and is removed afterwards', async (t) => {
  let out = '';
  let seen: Record<string, string> | undefined;
  const dirs: string[] = [];
  const stdin = new PassThrough();
  const result = await ex.run({
    rootfs: { lowerdirs: [rootfs] },
    network: 'none',
    limits: { memoryBytes: 64 * MiB, cpus: 0.5, pids: 32 },
    process: { args: ['/bin/sh', '-c', 'cat /proc/self/cgroup; read x'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
    stdin,
    onStdout: (b) => {
      out += b.toString();
      if (seen || !out.includes('pids:')) return;
      dirs.push(hostCgroup(out, 'memory'), hostCgroup(out, 'cpu'), hostCgroup(out, 'pids'));
      seen = {
        memory: readFileSync(`${dirs[0]}/memory.limit_in_bytes`, 'utf8').trim(),
        quota: readFileSync(`${dirs[1]}/cpu.cfs_quota_us`, 'utf8').trim(),
        period: readFileSync(`${dirs[1]}/cpu.cfs_period_us`, 'utf8').trim(),
        pids: readFileSync(`${dirs[2]}/pids.max`, 'utf8').trim(),
      };
      stdin.end('go\n');
    },
  });
  t.is(result.exitCode, 0);
  t.deepEqual(seen, { memory: String(64 * MiB), quota: '50000', period: '100000', pids: '33' }); // + 1 for the sandbox's init
  t.true(dirs.every((d) => /\/tsbuild\/[0-9a-f]{16}$/.test(d)), dirs.join(' '));
  t.deepEqual(dirs.filter((d) => existsSync(d)), [], 'the cgroups are removed');
});

test('a pids limit contains a fork bomb', async (t) => {
  let out = '';
  let pidsDir: string | undefined;
  let peak = 0;
  const ac = new AbortController();
  const watch = (async () => {
    while (!pidsDir) await sleep(5);
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      const current = Number(readFileSync(`${pidsDir}/pids.current`, 'utf8'));
      peak = Math.max(peak, current);
      if (current > 100) break; // the limit does not hold: stop the bomb now
      await sleep(10);
    }
    const events = readFileSync(`${pidsDir}/pids.events`, 'utf8');
    ac.abort();
    return events;
  })();
  const run = ex.run({
    rootfs: { lowerdirs: [rootfs] },
    network: 'none',
    limits: { pids: 16 },
    signal: ac.signal,
    process: { args: ['/bin/sh', '-c', 'cat /proc/self/cgroup; bomb() { bomb | bomb & }; bomb; while :; do :; done'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
    onStdout: (b) => {
      out += b.toString();
      if (!pidsDir && out.includes('pids:')) pidsDir = hostCgroup(out, 'pids');
    },
  });
  const err = await t.throwsAsync(run, { instanceOf: ExecutorError });
  t.is(err?.code, 'TSBUILD_CANCELLED');
  const events = await watch;
  t.true(peak > 0 && peak <= 17, `peak ${peak} (16 + the init)`);
  t.regex(events, /^max [1-9]/, 'forks were refused');
  t.false(existsSync(pidsDir!));
});

test('a CPU quota of 0.2 holds a busy loop to about a fifth of a CPU', async (t) => {
  // busybox time prints "real 0m 1.00s / user 0m 0.20s / sys 0m 0.00s" on stderr.
  const r = await sh(ex, [rootfs], 'time timeout -s KILL 1 sh -c "while :; do :; done"', { limits: { cpus: 0.2 } });
  const secs = (name: string) => {
    const m = new RegExp(`${name}\\s+(\\d+)m\\s*([\\d.]+)s`).exec(r.err);
    if (!m) throw new Error(r.err);
    return Number(m[1]) * 60 + Number(m[2]);
  };
  const used = secs('user') + secs('sys');
  t.true(secs('real') >= 0.9, r.err);
  t.true(used <= 0.35, `used ${used}s of CPU in ${secs('real')}s`);
});

test('invalid limits are a setup error', async (t) => {
  const r = await sh(ex, [rootfs], 'true', { limits: { memoryBytes: -1 } });
  t.is(r.code, 125);
  t.regex(r.result.setupError ?? '', /memory/);
});
