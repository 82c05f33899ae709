/**
 * cgroup limits: memory, pids, CPU and cpuset, checked by what the command can and cannot
 * do and by the cgroup files on the host while it runs, on whatever hierarchy this host
 * has (v1 and hybrid hosts, pure v2 in the CI guests). Needs root.
 */
import anyTest from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CgroupUnavailableError, ExecutorError } from './errors.js';
import { cgroupDir, FILES, leftoverRunCgroups, versionOf } from './testing/cgroup-paths.js';
import { sh } from './testing/fixture.js';
import { ex, rootfs, rootOnly, sandboxSuite } from './testing/harness.js';

const test = rootOnly(anyTest);

sandboxSuite(test, { title: 'no mount, process or cgroup of ours is left on the host', leftovers: leftoverRunCgroups });

const MiB = 1 << 20;
const RUN_DIR = /\/tsbuild-\d+\/run-[0-9a-f]{16}$/;

test('a 32 MiB memory limit kills a command that allocates 100 MB with 137, and says it was the OOM killer', async (t) => {
  const run = (memoryBytes?: number, user = { uid: 0, gid: 0 }) =>
    ex.run({
      rootfs: { lowerdirs: [rootfs] },
      network: 'none',
      ...(memoryBytes ? { limits: { memoryBytes } } : {}),
      // busybox dd allocates its block buffer and read() fills it: 100 MB resident.
      process: { args: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1'], env: ['PATH=/bin'], cwd: '/', user },
    });
  const limited = await run(32 * MiB);
  t.is(limited.exitCode, 137);
  t.is(limited.signal, 'SIGKILL');
  t.true(limited.oomKilled);
  const asUser = await run(32 * MiB, { uid: 1000, gid: 1000 });
  t.is(asUser.exitCode, 137, 'a command that is not root is limited too');
  t.true(asUser.oomKilled);
  const free = await run();
  t.is(free.exitCode, 0, 'without the limit the same command succeeds');
  t.is(free.oomKilled, undefined);
});

test('the cgroup carries the limits while the command runs, holds the init too, and is removed afterwards', async (t) => {
  let out = '';
  let seen: Record<string, string> | undefined;
  const dirs: string[] = [];
  const stdin = new PassThrough();
  const result = await ex.run({
    rootfs: { lowerdirs: [rootfs] },
    network: 'none',
    limits: { memoryBytes: 64 * MiB, cpus: 0.5, pids: 32, cpuShares: 512 },
    process: { args: ['/bin/sh', '-c', 'cat /proc/self/cgroup; echo @@; cat /proc/1/cgroup; echo @@; read x'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
    stdin,
    onStdout: (b) => {
      out += b.toString();
      if (seen || out.split('@@').length < 3) return;
      const [self = '', init = ''] = out.split('@@');
      dirs.push(cgroupDir(self, 'memory'), cgroupDir(self, 'cpu'), cgroupDir(self, 'pids'));
      const read = (dir: string, key: keyof typeof FILES, controller: string) => readFileSync(`${dir}/${FILES[key][versionOf(controller)!]}`, 'utf8').trim();
      seen = {
        memory: read(dirs[0]!, 'memory', 'memory'),
        quota: read(dirs[1]!, 'cpuQuota', 'cpu'),
        shares: read(dirs[1]!, 'cpuShares', 'cpu'),
        pids: read(dirs[2]!, 'pids', 'pids'),
        init: cgroupDir(init, 'pids'),
      };
      stdin.end('go\n');
    },
  });
  t.is(result.exitCode, 0);
  t.deepEqual(seen, {
    memory: String(64 * MiB),
    quota: versionOf('cpu') === 1 ? '50000' : '50000 100000',
    shares: versionOf('cpu') === 1 ? '512' : '20',
    pids: '33', // + 1 for the sandbox's init
    init: dirs[2],
  });
  t.true(dirs.every((d) => RUN_DIR.test(d)), dirs.join(' '));
  t.deepEqual(dirs.filter((d) => existsSync(d)), [], 'the cgroups are removed');
});

test('--cpuset-cpus: the command may run only on the CPUs given', async (t) => {
  const r = await sh(ex, [rootfs], 'grep Cpus_allowed_list /proc/self/status', { limits: { cpusetCpus: '0' } });
  t.is(r.code, 0, r.err);
  t.regex(r.out, /^Cpus_allowed_list:\s+0$/m);
});

test('--cpuset-cpus naming a CPU this machine does not have is an error naming the limit', async (t) => {
  const err = await t.throwsAsync(sh(ex, [rootfs], 'true', { limits: { cpusetCpus: '0-4095' } }), { instanceOf: CgroupUnavailableError });
  t.is(err?.limit, 'cpusetCpus');
  t.regex(err?.message ?? '', /cpuset CPUs limit: the kernel refused "0-4095" for cpuset.cpus/);
});

test('--cpu-period/--cpu-quota and --memory-swap reach their cgroup files', async (t) => {
  const cpu = versionOf('cpu')!;
  const mem = versionOf('memory')!;
  let printed = '';
  let out = '';
  const stdin = new PassThrough();
  const r = await ex.run({
    rootfs: { lowerdirs: [rootfs] },
    network: 'none',
    limits: { cpuPeriodUs: 50_000, cpuQuotaUs: 20_000, memoryBytes: 32 * MiB, memorySwapBytes: 48 * MiB },
    stdin,
    process: { args: ['/bin/sh', '-c', 'cat /proc/self/cgroup; echo @@; read x'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
    onStdout: (b) => {
      out += b.toString();
      if (printed || !out.includes('@@')) return;
      const [self = ''] = out.split('@@');
      const read = (controller: string, file: string) => readFileSync(`${cgroupDir(self, controller)}/${file}`, 'utf8').trim();
      printed = cpu === 1 ? `${read('cpu', 'cpu.cfs_period_us')} ${read('cpu', 'cpu.cfs_quota_us')}` : read('cpu', 'cpu.max');
      printed += ` ${mem === 1 ? read('memory', 'memory.memsw.limit_in_bytes') : read('memory', 'memory.swap.max')}`;
      stdin.end('go\n');
    },
  });
  t.is(r.exitCode, 0);
  t.is(printed, cpu === 1 ? `50000 20000 ${48 * MiB}` : `20000 50000 ${16 * MiB}`);
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
    process: { args: ['/bin/sh', '-c', 'cat /proc/self/cgroup; echo @@; bomb() { bomb | bomb & }; bomb; while :; do :; done'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
    onStdout: (b) => {
      out += b.toString();
      if (!pidsDir && out.includes('@@')) pidsDir = cgroupDir(out.split('@@')[0]!, 'pids');
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
