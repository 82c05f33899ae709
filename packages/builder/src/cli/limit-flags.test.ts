/** docker's limit flags -> the executor's Limits, and the UsageErrors for bad values. */
import test from 'ava';
import { UsageError } from '../errors.js';
import { limitFlags, parseLimits } from './limit-flags.js';

const MiB = 1 << 20;

test('docker syntax and units', (t) => {
  t.deepEqual(parseLimits({ memory: '32m', 'memory-swap': '1g', cpus: 1.5, 'cpu-shares': 512, 'cpuset-cpus': '0-1', 'cpuset-mems': '0', 'pids-limit': 100 }), {
    memoryBytes: 32 * MiB,
    memorySwapBytes: 1024 * MiB,
    cpus: 1.5,
    cpuShares: 512,
    cpusetCpus: '0-1',
    cpusetMems: '0',
    pids: 100,
  });
  t.deepEqual(parseLimits({ memory: '8388608b', 'cpu-period': 50_000, 'cpu-quota': 25_000 }), { memoryBytes: 8 * MiB, cpuPeriodUs: 50_000, cpuQuotaUs: 25_000 });
  t.deepEqual(parseLimits({ memory: '0.5g', 'memory-swap': '-1' }), { memoryBytes: 512 * MiB, memorySwapBytes: -1 });
});

test("docker's 'unlimited' values mean no limit", (t) => {
  t.deepEqual(parseLimits({ 'pids-limit': -1, 'cpu-quota': -1, 'cpu-shares': 0, 'cpu-period': 0, 'memory-swap': '0', 'cpuset-cpus': '' }), {});
  t.deepEqual(parseLimits({ 'pids-limit': 0 }), {});
});

test('bad values name the flag', (t) => {
  const bad: Array<[Parameters<typeof parseLimits>[0], RegExp]> = [
    [{ memory: 'lots' }, /^--memory lots: expected a size/],
    [{ memory: '1m' }, /^--memory 1m: the minimum is 6m/],
    [{ 'memory-swap': '1g' }, /^--memory-swap 1g: it needs --memory too/],
    [{ memory: '64m', 'memory-swap': '32m' }, /^--memory-swap 32m: it must be at least --memory/],
    [{ cpus: Number.NaN }, /^--cpus NaN: want a number of CPUs/],
    [{ cpus: 0.001 }, /^--cpus 0.001/],
    [{ cpus: 1, 'cpu-quota': 50_000 }, /--cpus cannot be combined with --cpu-period or --cpu-quota/],
    [{ 'cpu-period': 100 }, /^--cpu-period 100: want a whole number from 1000 to 1000000/],
    [{ 'cpu-quota': 500 }, /^--cpu-quota 500/],
    [{ 'cpu-shares': 1 }, /^--cpu-shares 1: want a whole number from 2 to 262144/],
    [{ 'cpuset-cpus': '0-1,x' }, /^--cpuset-cpus 0-1,x: expected a list/],
    [{ 'pids-limit': 2.5 }, /^--pids-limit 2.5/],
  ];
  for (const [flags, message] of bad) t.throws(() => parseLimits(flags), { instanceOf: UsageError, message }, JSON.stringify(flags));
});

test('limitFlags takes the last of a repeated flag and ignores everything else', (t) => {
  t.deepEqual(limitFlags({ memory: ['32m', '64m'], cpus: 2, tag: ['x'], 'pids-limit': undefined }), { memory: '64m', cpus: 2 });
});
