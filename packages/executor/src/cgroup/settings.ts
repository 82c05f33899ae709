/**
 * Limits -> the cgroup files that carry them, for v1 and for v2 (pure, so the mapping is
 * unit-tested on its own). Values follow docker/runc: --cpus is a quota over a 100 ms
 * period, --cpu-shares becomes v2's cpu.weight with runc's formula, --memory-swap is
 * memory plus swap (v2's memory.swap.max holds the swap alone), and without it the swap
 * allowed equals the memory limit where the kernel accounts swap.
 */
import { ExecutorError } from '../errors.js';
import type { Limits } from '../types.js';

export type Controller = 'memory' | 'cpu' | 'cpuset' | 'pids';
export type LimitKey = keyof Limits;

export interface Setting {
  controller: Controller;
  file: string;
  value: string;
  /** The limit it applies, for messages. */
  limit: LimitKey;
  /** A default rather than something asked for: skipped when the kernel lacks the file. */
  optional?: boolean;
}

/** How messages name each limit. */
export const LIMIT_NAMES: Record<LimitKey, string> = {
  memoryBytes: 'memory',
  memorySwapBytes: 'memory+swap',
  cpus: 'CPU',
  cpuPeriodUs: 'CPU period',
  cpuQuotaUs: 'CPU quota',
  cpuShares: 'CPU shares',
  cpusetCpus: 'cpuset CPUs',
  cpusetMems: 'cpuset memory nodes',
  pids: 'pids',
};

const CONTROLLER: Record<LimitKey, Controller> = {
  memoryBytes: 'memory',
  memorySwapBytes: 'memory',
  cpus: 'cpu',
  cpuPeriodUs: 'cpu',
  cpuQuotaUs: 'cpu',
  cpuShares: 'cpu',
  cpusetCpus: 'cpuset',
  cpusetMems: 'cpuset',
  pids: 'pids',
};

const PERIOD = 100_000;
const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** The limits that are set, in a fixed order (the first one names errors). */
export function requested(l: Limits | undefined): LimitKey[] {
  if (!l) return [];
  return (Object.keys(LIMIT_NAMES) as LimitKey[]).filter((k) => l[k] !== undefined);
}

/** Each controller the limits need, with the first limit that needs it. */
export function controllersFor(l: Limits): Map<Controller, LimitKey> {
  const out = new Map<Controller, LimitKey>();
  for (const k of requested(l)) if (!out.has(CONTROLLER[k])) out.set(CONTROLLER[k], k);
  return out;
}

export function checkLimits(l: Limits): void {
  const bad = (k: LimitKey, why: string) => new ExecutorError('TSBUILD_SANDBOX_SETUP', `invalid ${LIMIT_NAMES[k]} limit ${JSON.stringify(l[k])}: ${why}`);
  const int = (v: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER) => v === undefined || (Number.isSafeInteger(v) && v >= min && v <= max);
  if (!int(l.memoryBytes, 1)) throw bad('memoryBytes', 'want a number of bytes above 0');
  if (l.memorySwapBytes !== undefined) {
    if (l.memoryBytes === undefined) throw bad('memorySwapBytes', 'it needs a memory limit too');
    if (l.memorySwapBytes !== -1 && !int(l.memorySwapBytes, l.memoryBytes)) throw bad('memorySwapBytes', 'want -1 or at least the memory limit');
  }
  if (l.cpus !== undefined && !(Number.isFinite(l.cpus) && l.cpus >= 0.01)) throw bad('cpus', 'want at least 0.01');
  if (l.cpus !== undefined && (l.cpuPeriodUs !== undefined || l.cpuQuotaUs !== undefined)) throw bad('cpus', 'a number of CPUs and a CPU period or quota cannot both be set');
  if (!int(l.cpuPeriodUs, 1000, 1_000_000)) throw bad('cpuPeriodUs', 'want 1000 to 1000000 microseconds');
  if (!int(l.cpuQuotaUs, 1000)) throw bad('cpuQuotaUs', 'want at least 1000 microseconds');
  if (!int(l.cpuShares, 2, 262_144)) throw bad('cpuShares', 'want 2 to 262144');
  if (l.cpusetCpus !== undefined && !CPU_LIST.test(l.cpusetCpus)) throw bad('cpusetCpus', 'want a list such as 0-3 or 0,2');
  if (l.cpusetMems !== undefined && !CPU_LIST.test(l.cpusetMems)) throw bad('cpusetMems', 'want a list such as 0 or 0-1');
  if (!int(l.pids, 1)) throw bad('pids', 'want a whole number above 0');
}

/** runc's conversion of cpu.shares (2-262144) to cgroup v2's cpu.weight (1-10000). */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262_142);
}

function quota(l: Limits): { quota: number | undefined; period: number } | undefined {
  if (l.cpus !== undefined) return { quota: Math.round(l.cpus * PERIOD), period: PERIOD };
  if (l.cpuQuotaUs !== undefined || l.cpuPeriodUs !== undefined) return { quota: l.cpuQuotaUs, period: l.cpuPeriodUs ?? PERIOD };
  return undefined;
}

/** The sandbox's init is one more process in the cgroup. */
export const INIT_PROCESSES = 1;

export function v2Settings(l: Limits): Setting[] {
  const out: Setting[] = [];
  const q = quota(l);
  if (l.memoryBytes !== undefined) {
    out.push({ controller: 'memory', file: 'memory.max', value: String(l.memoryBytes), limit: 'memoryBytes' });
    const swap = l.memorySwapBytes;
    if (swap === undefined) out.push({ controller: 'memory', file: 'memory.swap.max', value: String(l.memoryBytes), limit: 'memoryBytes', optional: true });
    else if (swap === -1) out.push({ controller: 'memory', file: 'memory.swap.max', value: 'max', limit: 'memorySwapBytes', optional: true });
    else out.push({ controller: 'memory', file: 'memory.swap.max', value: String(swap - l.memoryBytes), limit: 'memorySwapBytes' });
  }
  if (q) out.push({ controller: 'cpu', file: 'cpu.max', value: `${q.quota ?? 'max'} ${q.period}`, limit: l.cpus !== undefined ? 'cpus' : l.cpuQuotaUs !== undefined ? 'cpuQuotaUs' : 'cpuPeriodUs' });
  if (l.cpuShares !== undefined) out.push({ controller: 'cpu', file: 'cpu.weight', value: String(sharesToWeight(l.cpuShares)), limit: 'cpuShares' });
  if (l.cpusetCpus !== undefined) out.push({ controller: 'cpuset', file: 'cpuset.cpus', value: l.cpusetCpus, limit: 'cpusetCpus' });
  if (l.cpusetMems !== undefined) out.push({ controller: 'cpuset', file: 'cpuset.mems', value: l.cpusetMems, limit: 'cpusetMems' });
  if (l.pids !== undefined) out.push({ controller: 'pids', file: 'pids.max', value: String(l.pids + INIT_PROCESSES), limit: 'pids' });
  return out;
}

export function v1Settings(l: Limits): Setting[] {
  const out: Setting[] = [];
  const q = quota(l);
  if (l.memoryBytes !== undefined) {
    // memsw may never be below limit_in_bytes: the memory limit goes first.
    out.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(l.memoryBytes), limit: 'memoryBytes' });
    const swap = l.memorySwapBytes;
    if (swap === undefined) out.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(2 * l.memoryBytes), limit: 'memoryBytes', optional: true });
    else if (swap === -1) out.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: '-1', limit: 'memorySwapBytes', optional: true });
    else out.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(swap), limit: 'memorySwapBytes' });
  }
  if (q) {
    const limit = l.cpus !== undefined ? 'cpus' : l.cpuQuotaUs !== undefined ? 'cpuQuotaUs' : 'cpuPeriodUs';
    out.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(q.period), limit });
    out.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(q.quota ?? -1), limit });
  }
  if (l.cpuShares !== undefined) out.push({ controller: 'cpu', file: 'cpu.shares', value: String(l.cpuShares), limit: 'cpuShares' });
  if (l.cpusetCpus !== undefined) out.push({ controller: 'cpuset', file: 'cpuset.cpus', value: l.cpusetCpus, limit: 'cpusetCpus' });
  if (l.cpusetMems !== undefined) out.push({ controller: 'cpuset', file: 'cpuset.mems', value: l.cpusetMems, limit: 'cpusetMems' });
  if (l.pids !== undefined) out.push({ controller: 'pids', file: 'pids.max', value: String(l.pids + INIT_PROCESSES), limit: 'pids' });
  return out;
}
