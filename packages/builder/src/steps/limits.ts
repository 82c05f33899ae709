/**
 * Resource limits as the command line names them: which flag sets each executor limit,
 * and how a limit the host cannot apply, or a step the kernel OOM-killed, is reported.
 */
import type { CgroupUnavailableError, Limits } from '@tsbuild/executor';
import { BuildError, type SourceLocation } from '../errors.js';

/** The flag (docker's) that sets each limit. */
export const LIMIT_FLAGS: Record<keyof Limits, string> = {
  memoryBytes: '--memory',
  memorySwapBytes: '--memory-swap',
  cpus: '--cpus',
  cpuPeriodUs: '--cpu-period',
  cpuQuotaUs: '--cpu-quota',
  cpuShares: '--cpu-shares',
  cpusetCpus: '--cpuset-cpus',
  cpusetMems: '--cpuset-mems',
  pids: '--pids-limit',
};

/** `--memory: cannot apply the memory limit: ...`, located at the step when there is one. */
export function limitError(err: CgroupUnavailableError, location?: SourceLocation): BuildError {
  const flag = LIMIT_FLAGS[err.limit as keyof Limits] ?? err.limit;
  return new BuildError('TSBUILD_UNSUPPORTED', `${flag}: ${err.message}`, { cause: err, ...(location ? { location } : {}) });
}

/** 33554432 -> "32MiB". */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}B`;
}

/** What to add to a failed step's message when the kernel OOM-killed one of its processes. */
export function oomNote(limits: Limits | undefined): string {
  const at = limits?.memoryBytes === undefined ? 'at its memory limit' : `at the --memory limit of ${formatBytes(limits.memoryBytes)}`;
  return `out of memory: the kernel killed a process of the step ${at}`;
}
