/**
 * Resource-limit flags: docker build's (a budget for every RUN step) and docker run's,
 * with docker's syntax and meaning, turned into the executor's `Limits`. A bad value is a
 * UsageError naming the flag; docker's "unlimited" values (0 or -1) mean no limit.
 */
import type { Options } from 'yargs';
import type { Limits } from '@tsbuild/executor';
import { UsageError } from '../errors.js';

const memory = { alias: 'm', type: 'string', describe: 'Memory limit (e.g. 512m, 2g)' } as const;
const memorySwap = { type: 'string', describe: 'Memory plus swap (e.g. 1g); -1: unlimited swap (default: swap as large as --memory)' } as const;
const cpuShares = { alias: 'c', type: 'number', describe: 'CPU shares, a relative weight (default 1024)' } as const;
const cpuPeriod = { type: 'number', describe: 'CPU CFS period in microseconds' } as const;
const cpuQuota = { type: 'number', describe: 'CPU CFS quota in microseconds per period' } as const;
const cpusetCpus = { type: 'string', describe: 'CPUs allowed (e.g. 0-3 or 0,1)' } as const;
const cpusetMems = { type: 'string', describe: 'Memory nodes allowed (e.g. 0-3 or 0,1)' } as const;

/** `tsbuild build`: docker build's limits, applied to each RUN step. */
export const BUILD_LIMIT_OPTIONS = {
  memory: { ...memory, describe: 'Memory limit of each RUN step (e.g. 512m, 2g)' },
  'memory-swap': memorySwap,
  'cpu-shares': cpuShares,
  'cpu-period': cpuPeriod,
  'cpu-quota': cpuQuota,
  'cpuset-cpus': cpusetCpus,
  'cpuset-mems': cpusetMems,
} as const satisfies Record<string, Options>;

/** `tsbuild run`: docker run's limits. */
export const RUN_LIMIT_OPTIONS = {
  memory: { ...memory, describe: 'Memory limit (e.g. 32m, 1g); exceeding it kills with 137' },
  'memory-swap': memorySwap,
  cpus: { type: 'number', describe: 'Number of CPUs (e.g. 0.5)' },
  'cpu-shares': cpuShares,
  'cpu-period': cpuPeriod,
  'cpu-quota': cpuQuota,
  'cpuset-cpus': cpusetCpus,
  'cpuset-mems': cpusetMems,
  'pids-limit': { type: 'number', describe: 'Maximum number of processes (-1: unlimited)' },
} as const satisfies Record<string, Options>;

/** The raw values of the limit flags given (the last one when a flag is repeated). */
export type LimitFlags = Partial<Record<keyof typeof RUN_LIMIT_OPTIONS, string | number>>;

export function limitFlags(argv: Record<string, unknown>): LimitFlags {
  const out: LimitFlags = {};
  for (const name of Object.keys(RUN_LIMIT_OPTIONS) as Array<keyof typeof RUN_LIMIT_OPTIONS>) {
    const v = argv[name];
    const last = Array.isArray(v) ? v.at(-1) : v;
    if (typeof last === 'string' || typeof last === 'number') out[name] = last;
  }
  return out;
}

/** docker's sizes: 32m, 1g, 512k, 1048576 (binary units). */
export function parseSize(flag: string, spec: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(spec.trim());
  if (!m) throw new UsageError(`${flag} ${spec}: expected a size such as 32m or 1g`);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * unit);
}

function integer(flag: string, v: string | number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} ${v}: want a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`);
  return n;
}

const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

export function parseLimits(f: LimitFlags): Limits {
  const limits: Limits = {};
  if (f.memory !== undefined) {
    limits.memoryBytes = parseSize('--memory', String(f.memory));
    if (limits.memoryBytes < 6 * 1024 * 1024) throw new UsageError(`--memory ${f.memory}: the minimum is 6m`);
  }
  if (f['memory-swap'] !== undefined && String(f['memory-swap']) !== '0') {
    const spec = String(f['memory-swap']);
    if (limits.memoryBytes === undefined) throw new UsageError(`--memory-swap ${spec}: it needs --memory too`);
    limits.memorySwapBytes = spec === '-1' ? -1 : parseSize('--memory-swap', spec);
    if (limits.memorySwapBytes !== -1 && limits.memorySwapBytes < limits.memoryBytes) throw new UsageError(`--memory-swap ${spec}: it must be at least --memory (it counts memory plus swap)`);
  }
  if (f.cpus !== undefined) {
    const n = Number(f.cpus);
    if (!(Number.isFinite(n) && n >= 0.01)) throw new UsageError(`--cpus ${f.cpus}: want a number of CPUs, at least 0.01`);
    limits.cpus = n;
  }
  if (f['cpu-period'] !== undefined && Number(f['cpu-period']) !== 0) limits.cpuPeriodUs = integer('--cpu-period', f['cpu-period'], 1000, 1_000_000);
  if (f['cpu-quota'] !== undefined && Number(f['cpu-quota']) !== 0 && Number(f['cpu-quota']) !== -1) limits.cpuQuotaUs = integer('--cpu-quota', f['cpu-quota'], 1000);
  if (limits.cpus !== undefined && (limits.cpuPeriodUs !== undefined || limits.cpuQuotaUs !== undefined)) throw new UsageError('--cpus cannot be combined with --cpu-period or --cpu-quota');
  if (f['cpu-shares'] !== undefined && Number(f['cpu-shares']) !== 0) limits.cpuShares = integer('--cpu-shares', f['cpu-shares'], 2, 262_144);
  for (const [flag, key] of [['cpuset-cpus', 'cpusetCpus'], ['cpuset-mems', 'cpusetMems']] as const) {
    const v = f[flag];
    if (v === undefined || v === '') continue;
    if (!CPU_LIST.test(String(v))) throw new UsageError(`--${flag} ${v}: expected a list such as 0-3 or 0,1`);
    limits[key] = String(v);
  }
  if (f['pids-limit'] !== undefined && Number(f['pids-limit']) !== 0 && Number(f['pids-limit']) !== -1) limits.pids = integer('--pids-limit', f['pids-limit'], 1);
  return limits;
}
