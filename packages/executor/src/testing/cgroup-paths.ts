/**
 * For tests on real kernels: which hierarchy has a controller on this host (v1 on hybrid
 * hosts, v2 on systemd hosts and the CI guests), and the host directory of a sandbox's
 * cgroup from the `/proc/self/cgroup` text a command printed (the sandbox has no cgroup
 * namespace, so the paths are the host's).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostCgroupSystem } from '../cgroups.js';

export type Version = 1 | 2;

/** The version of the hierarchy with `controller`, or undefined when there is none. */
export function versionOf(controller: string): Version | undefined {
  const { layout, fs } = hostCgroupSystem();
  if (layout.v1.has(controller)) return 1;
  if (layout.v2 && (fs.read(join(layout.v2.mount, 'cgroup.controllers')) ?? '').split(/\s+/).includes(controller)) return 2;
  return undefined;
}

function mountOf(version: Version, controller: string): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left = '', right = ''] = line.split(' - ');
    const [type = '', , opts = ''] = right.split(' ');
    if (version === 2 ? type === 'cgroup2' : type === 'cgroup' && opts.split(',').includes(controller)) return left.split(' ')[4]!;
  }
  throw new Error(`no cgroup v${version} mount with ${controller}`);
}

/** The host directory of the cgroup with `controller` in a `/proc/<pid>/cgroup` text. */
export function cgroupDir(procCgroup: string, controller: string): string {
  const version = versionOf(controller);
  if (version === undefined) throw new Error(`no ${controller} controller on this host`);
  const line = procCgroup.split('\n').find((l) => {
    const [id, list = ''] = l.split(':');
    return version === 2 ? id === '0' : list.split(',').includes(controller);
  });
  if (!line) throw new Error(`no ${controller} cgroup in ${JSON.stringify(procCgroup)}`);
  return join(mountOf(version, controller), line.split(':').slice(2).join(':'));
}

/** The file carrying a setting, by hierarchy version. */
export const FILES = {
  memory: { 1: 'memory.limit_in_bytes', 2: 'memory.max' },
  cpuQuota: { 1: 'cpu.cfs_quota_us', 2: 'cpu.max' },
  cpuShares: { 1: 'cpu.shares', 2: 'cpu.weight' },
  pids: { 1: 'pids.max', 2: 'pids.max' },
} as const;

/** Run cgroups of this process still present (`tsbuild-<pid>/run-*` wherever tsbuild may make them). */
export function leftoverRunCgroups(pid = process.pid): string[] {
  const { layout, fs } = hostCgroupSystem();
  const parents = [...layout.v1.values(), ...(layout.v2 ? [layout.v2.own, dirname(layout.v2.own)] : [])];
  const out = new Set<string>();
  for (const p of parents) {
    const base = join(p, `tsbuild-${pid}`);
    for (const name of fs.children(base)) if (name.startsWith('run-')) out.add(join(base, name));
  }
  return [...out];
}
