/**
 * Resource limits through the CLI: docker build's budget for RUN steps and docker run's
 * flags, each checked by what the command can see or do, and a limit that cannot be
 * applied as an error naming the flag. The cgroup hierarchy is whatever the host has
 * (v1 hybrid here, pure v2 in the CI guests).
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tsbuild } from './helpers/cli.js';
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
  const root = await busyboxStore();
  try {
    const res = await tsbuild(
      ['run', '--memory', '64m', '--memory-swap', '-1', '--cpus', '1.5', '--cpu-shares', '256', '--cpuset-cpus', '0', '--cpuset-mems', '0', '--pids-limit', '-1', 'busybox', 'sh', '-c', 'grep -E "^(Cpus|Mems)_allowed_list" /proc/self/status'],
      { root },
    );
    t.is(res.code, 0, res.stderr);
    t.regex(res.stdout, /^Cpus_allowed_list:\s+0\nMems_allowed_list:\s+0\n$/);
    const bad = await tsbuild(['run', '--cpuset-cpus', '0-4095', 'busybox', 'true'], { root });
    t.is(bad.code, 125);
    t.regex(bad.stderr, /^ERROR: --cpuset-cpus: cannot apply the cpuset CPUs limit/m);
  } finally {
    await removeDir(join(root, '..'));
  }
});
