/**
 * Where runs get their cgroups on each kind of host, which controllers are enabled, and
 * the errors for a limit that cannot be applied: the CgroupManager over a fake cgroupfs
 * that enforces cgroup v2's rules (testing/fake-cgroupfs.ts). Needs no root.
 */
import test from 'ava';
import { CgroupUnavailableError } from '../errors.js';
import { CgroupManager, type CgroupSystem } from '../cgroups.js';
import { FakeCgroupFs } from '../testing/fake-cgroupfs.js';
import type { CgroupLayout } from './layout.js';

const ALL = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'];
const MiB = 1 << 20;
const ME = 100;

function manager(fs: FakeCgroupFs, layout: CgroupLayout, alive: (pid: number) => boolean = () => false): CgroupManager {
  const sys: CgroupSystem = { fs, layout, pid: ME, alive: (p) => p === ME || alive(p) };
  return new CgroupManager(() => sys);
}

const v2 = (own: string): CgroupLayout => ({ v2: { mount: '/sys/fs/cgroup', own: `/sys/fs/cgroup${own}` }, v1: new Map() });
const words = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean).sort();

test('systemd service of its own: tsbuild moves into a leaf and nests the runs under its cgroup', (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup', ALL).cgroup('/sys/fs/cgroup', { subtree: ALL }).cgroup('/sys/fs/cgroup/system.slice', { subtree: ['memory', 'pids'] });
  fs.cgroup('/sys/fs/cgroup/system.slice/tsbuild.service', { procs: [ME] });
  const mgr = manager(fs, v2('/system.slice/tsbuild.service'));
  const run = mgr.create('a1', { memoryBytes: 32 * MiB, pids: 10 })!;
  const base = '/sys/fs/cgroup/system.slice/tsbuild.service/tsbuild-100';
  t.deepEqual(run.paths, [`${base}/run-a1`]);
  t.is(fs.where(ME), `${base}/supervisor`);
  t.deepEqual(words(fs.read('/sys/fs/cgroup/system.slice/tsbuild.service/cgroup.subtree_control')), ['memory', 'pids']);
  t.deepEqual(words(fs.read(`${base}/cgroup.subtree_control`)), ['memory', 'pids']);
  t.is(fs.read(`${base}/run-a1/memory.max`), String(32 * MiB));
  t.is(fs.read(`${base}/run-a1/memory.swap.max`), String(32 * MiB));
  t.is(fs.read(`${base}/run-a1/pids.max`), '11');
  t.not(run.procsFd, undefined, 'an fd on cgroup.procs for the sandbox to join through');

  // Exit: everything undone, tsbuild back where it was.
  mgr.close();
  t.false(fs.exists(base));
  t.is(fs.where(ME), '/sys/fs/cgroup/system.slice/tsbuild.service');
  t.deepEqual(words(fs.read('/sys/fs/cgroup/system.slice/tsbuild.service/cgroup.subtree_control')), []);
});

test('a CI job cgroup shared with the shell: the runs go next to it, tsbuild stays', (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup', ALL).cgroup('/sys/fs/cgroup', { subtree: ALL }).cgroup('/sys/fs/cgroup/ci.slice', { subtree: ALL });
  fs.cgroup('/sys/fs/cgroup/ci.slice/job.scope', { procs: [7, 8, ME] });
  const run = manager(fs, v2('/ci.slice/job.scope')).create('b2', { cpus: 0.5 })!;
  t.deepEqual(run.paths, ['/sys/fs/cgroup/ci.slice/tsbuild-100/run-b2']);
  t.is(fs.where(ME), '/sys/fs/cgroup/ci.slice/job.scope');
  t.is(fs.read('/sys/fs/cgroup/ci.slice/tsbuild-100/run-b2/cpu.max'), '50000 100000');
});

test('in the real root (which may hold processes) the runs go right below it', (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup', ALL).cgroup('/sys/fs/cgroup', { procs: [1, ME] });
  const run = manager(fs, v2('/')).create('c3', { pids: 5 })!;
  t.deepEqual(run.paths, ['/sys/fs/cgroup/tsbuild-100/run-c3']);
  t.is(fs.where(ME), '/sys/fs/cgroup');
  t.deepEqual(words(fs.read('/sys/fs/cgroup/cgroup.subtree_control')), ['pids']);
});

/** A container's cgroup namespace: its root is not the hierarchy's root (it has cgroup.type). */
function containerFs(procs: number[]): FakeCgroupFs {
  const fs = new FakeCgroupFs().mountV2('/sys/fs', ALL).cgroup('/sys/fs', { subtree: ALL }).cgroup('/sys/fs/cgroup', { procs });
  return fs;
}

test('container whose only process is tsbuild: nested below the namespace root', (t) => {
  const fs = containerFs([ME]);
  const run = manager(fs, { v2: { mount: '/sys/fs/cgroup', own: '/sys/fs/cgroup' }, v1: new Map() }).create('d4', { memoryBytes: 8 * MiB })!;
  t.deepEqual(run.paths, ['/sys/fs/cgroup/tsbuild-100/run-d4']);
  t.is(fs.where(ME), '/sys/fs/cgroup/tsbuild-100/supervisor');
});

test('container root shared with other processes: a clear error, and nothing changed', (t) => {
  const fs = containerFs([1, 42, ME]);
  const err = t.throws(() => manager(fs, { v2: { mount: '/sys/fs/cgroup', own: '/sys/fs/cgroup' }, v1: new Map() }).create('e5', { memoryBytes: 8 * MiB }), { instanceOf: CgroupUnavailableError });
  t.is(err?.limit, 'memoryBytes');
  t.is(err?.code, 'TSBUILD_CGROUP_UNAVAILABLE');
  t.regex(err?.message ?? '', /memory limit: .*root of its cgroup namespace.*2 other processes \(1 42\).*only process/);
  t.deepEqual(fs.log, []);
});

test('a controller the parent does not delegate: the error names it, the cgroup and the fix', (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup', ALL).cgroup('/sys/fs/cgroup', { subtree: ALL }).cgroup('/sys/fs/cgroup/system.slice', { subtree: ['memory', 'pids'] });
  fs.cgroup('/sys/fs/cgroup/system.slice/tsbuild.service', { procs: [ME] });
  const err = t.throws(() => manager(fs, v2('/system.slice/tsbuild.service')).create('f6', { cpusetCpus: '0' }), { instanceOf: CgroupUnavailableError });
  t.is(err?.limit, 'cpusetCpus');
  t.regex(err?.message ?? '', /cpuset CPUs limit: the cpuset controller is not available in \/sys\/fs\/cgroup\/system.slice\/tsbuild.service .*Delegate=yes/);
});

test('a parent that holds processes cannot enable a controller: EBUSY explained', (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup', ALL).cgroup('/sys/fs/cgroup', { subtree: ALL }).cgroup('/sys/fs/cgroup/ci.slice', { subtree: ALL });
  fs.cgroup('/sys/fs/cgroup/ci.slice/job.scope', { procs: [7, ME] });
  fs.cgroup('/sys/fs/cgroup/ci.slice/helper', { procs: [9] });
  // The parent has processes (a sibling of ours, above) and memory is not yet enabled there.
  fs.cgroup('/sys/fs/cgroup/ci.slice', { procs: [11] });
  fs.write('/sys/fs/cgroup/ci.slice/cgroup.subtree_control', '-memory');
  const err = t.throws(() => manager(fs, v2('/ci.slice/job.scope')).create('g7', { memoryBytes: 8 * MiB }), { instanceOf: CgroupUnavailableError });
  t.regex(err?.message ?? '', /enable the memory controller in \/sys\/fs\/cgroup\/ci.slice: it holds processes/);
});

test('read-only cgroupfs: the limit is an error naming it; runs without limits touch nothing', (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup', ALL, { readonly: true }).cgroup('/sys/fs/cgroup', { procs: [ME] });
  const mgr = manager(fs, v2('/'));
  t.is(mgr.create('h8', undefined), undefined);
  t.is(mgr.create('h8', {}), undefined);
  const err = t.throws(() => mgr.create('h8', { pids: 4 }), { instanceOf: CgroupUnavailableError });
  t.regex(err?.message ?? '', /pids limit: .*read-only cgroup mount.*--privileged/);
});

test('no cgroup hierarchy mounted', (t) => {
  const err = t.throws(() => manager(new FakeCgroupFs(), { v1: new Map() }).create('i9', { memoryBytes: 8 * MiB }), { instanceOf: CgroupUnavailableError });
  t.regex(err?.message ?? '', /memory limit: no cgroup hierarchy is mounted.*mount -t cgroup2/);
});

test('a controller no hierarchy has (hybrid host, v2 with only hugetlb)', (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup/unified', ['hugetlb']).mountV1('/sys/fs/cgroup/memory', ['memory']);
  const err = t.throws(() => manager(fs, { v2: { mount: '/sys/fs/cgroup/unified', own: '/sys/fs/cgroup/unified' }, v1: new Map([['memory', '/sys/fs/cgroup/memory']]) }).create('j0', { pids: 3 }), { instanceOf: CgroupUnavailableError });
  t.regex(err?.message ?? '', /no cgroup hierarchy here has the pids controller \(cgroup v2 at \/sys\/fs\/cgroup\/unified has hugetlb; cgroup v1 has memory\)/);
});

test('hybrid: v1 controllers are used on v1, with cpuset sets copied from the parent', (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup/unified', ['hugetlb']).mountV1('/sys/fs/cgroup/memory', ['memory']).mountV1('/sys/fs/cgroup/cpuset', ['cpuset']);
  fs.cgroup('/sys/fs/cgroup/memory/user', { procs: [ME] }).cgroup('/sys/fs/cgroup/cpuset/user', { procs: [ME] });
  fs.write('/sys/fs/cgroup/cpuset/user/cpuset.cpus', '0-3');
  fs.write('/sys/fs/cgroup/cpuset/user/cpuset.mems', '0');
  const layout = { v2: { mount: '/sys/fs/cgroup/unified', own: '/sys/fs/cgroup/unified' }, v1: new Map([['memory', '/sys/fs/cgroup/memory/user'], ['cpuset', '/sys/fs/cgroup/cpuset/user']]) };
  const run = manager(fs, layout).create('k1', { memoryBytes: 8 * MiB, cpusetMems: '0' })!;
  t.deepEqual(run.paths, ['/sys/fs/cgroup/memory/user/tsbuild-100/run-k1', '/sys/fs/cgroup/cpuset/user/tsbuild-100/run-k1']);
  t.is(run.procsFd, undefined, 'nothing on v2');
  t.is(fs.read('/sys/fs/cgroup/memory/user/tsbuild-100/run-k1/memory.limit_in_bytes'), String(8 * MiB));
  t.is(fs.read('/sys/fs/cgroup/cpuset/user/tsbuild-100/cpuset.cpus'), '0-3');
  t.is(fs.read('/sys/fs/cgroup/cpuset/user/tsbuild-100/run-k1/cpuset.cpus'), '0-3');
  t.is(fs.read('/sys/fs/cgroup/cpuset/user/tsbuild-100/run-k1/cpuset.mems'), '0');
});

test('controllers are enabled as runs need them; a run cgroup goes away with remove()', async (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup', ALL).cgroup('/sys/fs/cgroup', { subtree: ALL }).cgroup('/sys/fs/cgroup/svc', { procs: [ME] });
  const mgr = manager(fs, v2('/svc'));
  const a = mgr.create('a', { memoryBytes: 8 * MiB })!;
  t.deepEqual(words(fs.read('/sys/fs/cgroup/svc/tsbuild-100/cgroup.subtree_control')), ['memory']);
  const b = mgr.create('b', { pids: 8, cpuShares: 2048 })!;
  t.deepEqual(words(fs.read('/sys/fs/cgroup/svc/tsbuild-100/cgroup.subtree_control')), ['cpu', 'memory', 'pids']);
  t.is(fs.read('/sys/fs/cgroup/svc/tsbuild-100/run-b/cpu.weight'), '79');
  await a.remove();
  await b.remove();
  t.deepEqual(fs.children('/sys/fs/cgroup/svc/tsbuild-100'), ['supervisor']);
});

test('leftovers of a killed tsbuild are swept; a live one and a busy cgroup are left alone', (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup', ALL).cgroup('/sys/fs/cgroup', { subtree: ALL }).cgroup('/sys/fs/cgroup/svc', { procs: [ME] });
  fs.cgroup('/sys/fs/cgroup/svc/tsbuild-55/supervisor').cgroup('/sys/fs/cgroup/svc/tsbuild-55/run-x');
  fs.cgroup('/sys/fs/cgroup/svc/tsbuild-66/supervisor', { procs: [66] });
  fs.cgroup('/sys/fs/cgroup/svc/tsbuild-77/run-y', { procs: [7001] });
  fs.cgroup('/sys/fs/cgroup/svc/other');
  manager(fs, v2('/svc'), (p) => p === 66).create('z', { pids: 2 });
  t.deepEqual(fs.children('/sys/fs/cgroup/svc').sort(), ['other', 'tsbuild-100', 'tsbuild-66', 'tsbuild-77']);
  t.deepEqual(fs.children('/sys/fs/cgroup/svc/tsbuild-77'), ['run-y'], 'a cgroup with processes is never removed');
});

test('a setting the kernel refuses: the error names the limit; the run cgroup is not left behind', (t) => {
  const fs = new FakeCgroupFs().mountV2('/sys/fs/cgroup', ['memory']).cgroup('/sys/fs/cgroup', { subtree: ['memory'] }).cgroup('/sys/fs/cgroup/svc', { procs: [ME] });
  // This kernel has no swap accounting: memory.swap.max is missing.
  const real = fs.read.bind(fs);
  fs.read = (p: string) => (p.endsWith('memory.swap.max') ? undefined : real(p));
  const write = fs.write.bind(fs);
  fs.write = (p: string, v: string) => (p.endsWith('memory.swap.max') ? (() => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); })() : write(p, v));
  const mgr = manager(fs, v2('/svc'));
  t.truthy(mgr.create('ok', { memoryBytes: 8 * MiB }), 'the default swap setting is skipped');
  const err = t.throws(() => mgr.create('no', { memoryBytes: 8 * MiB, memorySwapBytes: 16 * MiB }), { instanceOf: CgroupUnavailableError });
  t.is(err?.limit, 'memorySwapBytes');
  t.regex(err?.message ?? '', /memory\+swap limit: this kernel has no memory.swap.max \(swap accounting is off/);
  t.false(fs.exists('/sys/fs/cgroup/svc/tsbuild-100/run-no'));
});
