/** Limits -> cgroup files, for v1 and v2, and which limits are refused before any cgroup is touched. */
import test from 'ava';
import { ExecutorError } from '../errors.js';
import type { Limits } from '../types.js';
import { checkLimits, controllersFor, sharesToWeight, v1Settings, v2Settings } from './settings.js';

const MiB = 1 << 20;
const files = (s: Array<{ file: string; value: string; optional?: boolean }>) => s.map((x) => `${x.file}=${x.value}${x.optional ? '?' : ''}`);

test('memory: swap allowed equals the memory limit unless --memory-swap says otherwise (docker)', (t) => {
  t.deepEqual(files(v2Settings({ memoryBytes: 32 * MiB })), [`memory.max=${32 * MiB}`, `memory.swap.max=${32 * MiB}?`]);
  t.deepEqual(files(v1Settings({ memoryBytes: 32 * MiB })), [`memory.limit_in_bytes=${32 * MiB}`, `memory.memsw.limit_in_bytes=${64 * MiB}?`]);
  t.deepEqual(files(v2Settings({ memoryBytes: 32 * MiB, memorySwapBytes: 32 * MiB })), [`memory.max=${32 * MiB}`, 'memory.swap.max=0']);
  t.deepEqual(files(v1Settings({ memoryBytes: 32 * MiB, memorySwapBytes: 48 * MiB })), [`memory.limit_in_bytes=${32 * MiB}`, `memory.memsw.limit_in_bytes=${48 * MiB}`]);
  t.deepEqual(files(v2Settings({ memoryBytes: 32 * MiB, memorySwapBytes: -1 })), [`memory.max=${32 * MiB}`, 'memory.swap.max=max?']);
});

test('CPU: --cpus is a quota over 100 ms, --cpu-period/--cpu-quota as given, shares become cpu.weight on v2', (t) => {
  t.deepEqual(files(v2Settings({ cpus: 1.5 })), ['cpu.max=150000 100000']);
  t.deepEqual(files(v1Settings({ cpus: 0.5 })), ['cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=50000']);
  t.deepEqual(files(v2Settings({ cpuPeriodUs: 50_000, cpuQuotaUs: 25_000 })), ['cpu.max=25000 50000']);
  t.deepEqual(files(v2Settings({ cpuPeriodUs: 50_000 })), ['cpu.max=max 50000']);
  t.deepEqual(files(v1Settings({ cpuQuotaUs: 20_000 })), ['cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=20000']);
  t.deepEqual(files(v2Settings({ cpuShares: 512 })), [`cpu.weight=${sharesToWeight(512)}`]);
  t.deepEqual(files(v1Settings({ cpuShares: 512 })), ['cpu.shares=512']);
  // runc's table: 2 -> 1, 1024 -> 39, 262144 -> 10000.
  t.deepEqual([2, 1024, 262_144].map(sharesToWeight), [1, 39, 10_000]);
});

test('cpuset and pids (the sandbox init is one more process)', (t) => {
  t.deepEqual(files(v2Settings({ cpusetCpus: '0-1', cpusetMems: '0', pids: 16 })), ['cpuset.cpus=0-1', 'cpuset.mems=0', 'pids.max=17']);
  t.deepEqual(files(v1Settings({ pids: 16 })), ['pids.max=17']);
});

test('controllers needed, each with the first limit that needs it', (t) => {
  t.deepEqual([...controllersFor({ pids: 3, cpuShares: 100, memoryBytes: MiB * 8, cpusetCpus: '0' })], [
    ['memory', 'memoryBytes'],
    ['cpu', 'cpuShares'],
    ['cpuset', 'cpusetCpus'],
    ['pids', 'pids'],
  ]);
  t.is(controllersFor({}).size, 0);
});

test('invalid limits are refused with a message naming the limit', (t) => {
  const bad: Array<[Limits, RegExp]> = [
    [{ memoryBytes: -1 }, /memory limit/],
    [{ memorySwapBytes: 10 }, /memory\+swap limit.*needs a memory limit/],
    [{ memoryBytes: 64 * MiB, memorySwapBytes: 32 * MiB }, /at least the memory limit/],
    [{ cpus: 0.001 }, /CPU limit/],
    [{ cpus: 1, cpuQuotaUs: 50_000 }, /cannot both be set/],
    [{ cpuPeriodUs: 10 }, /CPU period/],
    [{ cpuQuotaUs: 999 }, /CPU quota/],
    [{ cpuShares: 1 }, /CPU shares/],
    [{ cpusetCpus: '0-' }, /cpuset CPUs/],
    [{ cpusetMems: 'a' }, /cpuset memory nodes/],
    [{ pids: 0 }, /pids limit/],
  ];
  for (const [limits, message] of bad) {
    const err = t.throws(() => checkLimits(limits), { instanceOf: ExecutorError }, JSON.stringify(limits));
    t.is(err?.code, 'TSBUILD_SANDBOX_SETUP');
    t.regex(err?.message ?? '', message);
  }
  t.notThrows(() => checkLimits({ memoryBytes: 6 * MiB, memorySwapBytes: -1, cpuPeriodUs: 1000, cpuQuotaUs: 1000, cpuShares: 2, cpusetCpus: '0-1,3', cpusetMems: '0', pids: 1 }));
});
