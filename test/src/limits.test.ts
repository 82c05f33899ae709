/**
 * Resource limits through the CLI: docker build's budget for RUN steps and docker run's
 * flags, each checked by what the command can see or do, and a limit that cannot be
 * applied as an error naming the flag. The cgroup hierarchy is whatever the host has
 * (v1 hybrid here, pure v2 in the CI guests).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, NO_HOST_REGISTRY_CONFIG, run, tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { removeDir, tempDir } from './helpers/fixtures.js';

async function buildWith(dockerfile: string, flags: string[]) {
  const root = await busyboxStore();
  const work = await tempDir('limits');
  try {
    await writeFile(join(work, 'Dockerfile'), dockerfile);
    return await tsbuild(['build', '--progress', 'plain', ...flags, work], { root });
  } finally {
    await removeDir(work);
    await removeDir(join(root, '..'));
  }
}

test('build --memory: a RUN step over it fails, saying it ran out of memory at that limit', async (t) => {
  const res = await buildWith('FROM busybox\nRUN dd if=/dev/zero of=/dev/null bs=100M count=1\n', ['--memory', '32m']);
  t.is(res.code, 1);
  t.regex(res.stderr, /Dockerfile:2: process "\/bin\/sh -c dd .*" did not complete successfully: .*\(out of memory: the kernel killed a process of the step at the --memory limit of 32MiB\)/);
});

test('build --memory: steps that fit run as usual', async (t) => {
  const res = await buildWith('FROM busybox\nRUN dd if=/dev/zero of=/dev/null bs=1M count=100\n', ['-m', '32m']);
  t.is(res.code, 0, res.stderr);
});

test('build --cpuset-cpus and --cpu-shares/--cpu-quota: every RUN step is held to them', async (t) => {
  const res = await buildWith('FROM busybox\nRUN grep Cpus_allowed_list /proc/self/status\nRUN grep Cpus_allowed_list /proc/self/status && echo second\n', ['--cpuset-cpus', '0', '-c', '512', '--cpu-period', '50000', '--cpu-quota', '25000']);
  t.is(res.code, 0, res.stderr);
  t.is(res.stderr.match(/Cpus_allowed_list:\s+0\n/g)?.length, 2, res.stderr);
});

test('a limit the host cannot apply is an error naming the flag, at the first RUN step', async (t) => {
  const res = await buildWith('FROM busybox\nRUN true\n', ['--cpuset-cpus', '0-4095']);
  t.is(res.code, 1);
  t.regex(res.stderr, /ERROR: Dockerfile:2: --cpuset-cpus: cannot apply the cpuset CPUs limit: the kernel refused "0-4095"/);
});

test('bad limit values are usage errors naming the flag', async (t) => {
  const res = await buildWith('FROM busybox\nRUN true\n', ['--memory-swap', '1g']);
  t.is(res.code, 2);
  t.regex(res.stderr, /--memory-swap 1g: it needs --memory too/);
});

test('run: every docker run limit flag is applied; -1 means unlimited', async (t) => {
  const root = await busyboxStore(t);
  const res = await tsbuild(
    ['run', '--memory', '64m', '--memory-swap', '-1', '--cpus', '1.5', '--cpu-shares', '256', '--cpuset-cpus', '0', '--cpuset-mems', '0', '--pids-limit', '-1', 'busybox', 'sh', '-c', 'grep -E "^(Cpus|Mems)_allowed_list" /proc/self/status'],
    { root },
  );
  t.is(res.code, 0, res.stderr);
  t.regex(res.stdout, /^Cpus_allowed_list:\s+0\nMems_allowed_list:\s+0\n$/);
  const bad = await tsbuild(['run', '--cpuset-cpus', '0-4095', 'busybox', 'true'], { root });
  t.is(bad.code, 125);
  t.regex(bad.stderr, /^ERROR: --cpuset-cpus: cannot apply the cpuset CPUs limit/m);
});

/**
 * tsbuild in a mount namespace of its own where the cgroup hierarchies are hidden
 * (`hide`) or read-only (`readonly`), as in containers without cgroup access.
 */
function withCgroups(how: 'hide' | 'readonly', root: string, args: string[]) {
  const prepare =
    how === 'hide'
      ? 'mount -t tmpfs none /sys/fs/cgroup'
      : 'for m in $(awk \'$9 ~ /^cgroup/ {print $5}\' /proc/self/mountinfo); do mount -o remount,bind,ro "$m"; done';
  const script = `${prepare} && exec "$0" "$@"`;
  return run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, process.execPath, CLI, ...args], {
    allowFail: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', TSBUILD_ROOT: root, ...NO_HOST_REGISTRY_CONFIG },
  });
}

for (const how of ['hide', 'readonly'] as const) {
  test(`cgroups ${how === 'hide' ? 'not mounted' : 'read-only'}: runs and builds without limits work; a limit asked for is an error saying what is missing`, async (t) => {
    const root = await busyboxStore(t);
    const work = await tempDir('limits', t);
    const plain = await withCgroups(how, root, ['run', 'busybox', 'echo', 'fine']);
    t.is(plain.code, 0, plain.stderr);
    t.is(plain.stdout, 'fine\n');
    await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nRUN echo built > /x\n');
    const built = await withCgroups(how, root, ['build', '-q', work]);
    t.is(built.code, 0, built.stderr);
    const limited = await withCgroups(how, root, ['run', '--memory', '32m', 'busybox', 'true']);
    t.is(limited.code, 125);
    t.regex(limited.stderr, how === 'hide' ? /^ERROR: --memory: cannot apply the memory limit: no cgroup hierarchy is mounted/m : /^ERROR: --memory: cannot apply the memory limit: .* is on a read-only cgroup mount; give tsbuild a writable one/m);
    const step = await withCgroups(how, root, ['build', '--progress', 'plain', '--no-cache', '--cpu-shares', '100', work]);
    t.is(step.code, 1);
    t.regex(step.stderr, /Dockerfile:2: --cpu-shares: cannot apply the CPU shares limit/);
  });
}

/** Pure cgroup v2 with memory (systemd hosts, the CI guests): a cgroup whose children may get memory, and that holds no process. */
function v2MemoryParent(): string | undefined {
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
  if (own === undefined || own === '/') return undefined;
  const parent = join('/sys/fs/cgroup', own, '..');
  let enabled = '';
  try {
    enabled = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8');
  } catch {
    return undefined;
  }
  return enabled.split(/\s+/).includes('memory') ? parent : undefined;
}
const memoryParent = v2MemoryParent();

/** tsbuild as the first process of a container: a cgroup namespace whose root is `cg`, cgroup2 mounted afresh. */
function inContainer(cg: string, root: string, args: string[]) {
  // A fresh cgroup2 mount (rooted at the namespace root) over a tmpfs: the same superblock cannot be mounted twice on one directory.
  const inner = `mount -t tmpfs none /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"`;
  const outer = `echo $$ > ${cg}/cgroup.procs && exec unshare -C -m --propagation private sh -c '${inner}' "$@"`;
  return run('sh', ['-c', outer, 'sh', process.execPath, CLI, ...args], {
    allowFail: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', TSBUILD_ROOT: root, ...NO_HOST_REGISTRY_CONFIG },
  });
}

(memoryParent ? test : test.skip)("in a container's cgroup namespace: alone it nests below the namespace root; sharing it is an error saying why", async (t) => {
  const root = await busyboxStore();
  const cg = join(memoryParent!, `tsbuild-e2e-${process.pid}`);
  await mkdir(cg);
  const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  try {
    const args = ['run', '--memory', '32m', 'busybox', 'sh', '-c', 'cat /proc/self/cgroup; dd if=/dev/zero of=/dev/null bs=100M count=1'];
    const alone = await inContainer(cg, root, args);
    t.is(alone.code, 137, alone.stderr);
    t.regex(alone.stdout, /^0::\/tsbuild-\d+\/run-[0-9a-f]{16}\n$/);
    t.is((await readFile(join(cg, 'cgroup.subtree_control'), 'utf8')).trim(), '', 'what it enabled is disabled again');

    await writeFile(join(cg, 'cgroup.procs'), String(sleeper.pid));
    const shared = await inContainer(cg, root, args);
    t.is(shared.code, 125);
    t.regex(shared.stderr, /--memory: cannot apply the memory limit: tsbuild's cgroup \/sys\/fs\/cgroup is the root of its cgroup namespace and also holds 1 other process .*Run tsbuild as the container's only process/);
  } finally {
    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper.once('exit', r));
    await rmdir(cg);
    await removeDir(join(root, '..'));
  }
});
