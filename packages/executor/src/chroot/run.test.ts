/**
 * Runs in chroot isolation: what the command sees (user, cwd, HOME, the run's files and
 * devices), what it leaves in the upper dir, what the mode refuses, and that nothing it
 * started outlives the run. Needs root.
 */
import anyTest from 'ava';
import koffi from 'koffi';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupUnavailableError } from '../errors.js';
import { getXattr } from '../libc.js';
import { ex, fx, rootfs, rootOnly, sandboxSuite } from '../testing/harness.js';
import { sh } from '../testing/fixture.js';

const test = rootOnly(anyTest);
const notices: string[] = [];
sandboxSuite(test, { executor: { isolation: 'chroot', poolSize: 2, onNotice: (m) => notices.push(m) } });

test('the command runs chrooted as the resolved user, in its workdir (created, owned by it), with HOME from /etc/passwd', async (t) => {
  const layer = fx.layer();
  const r = await sh(ex, [rootfs], 'id -u; id -G; pwd; echo "$HOME"; ls -ld . | awk \'{print $3}\'; ls /', {
    rootfs: { lowerdirs: [rootfs], ...layer },
    process: { user: 'tester', cwd: '/work/dir' },
    network: 'host',
  });
  t.is(r.code, 0, r.err);
  const [uid, groups, cwd, home, owner, ...root] = r.out.trim().split('\n');
  t.is(uid, '1000');
  t.deepEqual(groups!.split(' ').sort(), ['10', '1000', '2000']);
  t.is(cwd, '/work/dir');
  t.is(home, '/home/tester');
  t.is(owner, 'tester');
  t.false(root.includes('tsbuild-exec-test'), 'only the root is visible');
  t.is(lstatSync(join(layer.upperdir, 'work/dir')).uid, 1000);
});

test('the run gets /etc/hosts, /etc/resolv.conf, /etc/hostname and the OCI devices, none of them in the result', async (t) => {
  const layer = fx.layer();
  const r = await sh(ex, [rootfs], 'cat /etc/hostname; grep -c localhost /etc/hosts; head -c 4 /dev/zero | wc -c; echo > /dev/null; ls /dev | tr "\\n" " "; echo made > /etc/mine', {
    rootfs: { lowerdirs: [rootfs], ...layer },
    process: { hostname: 'buildkitsandbox' },
    network: 'host',
  });
  t.is(r.code, 0, r.err);
  t.is(r.out, 'buildkitsandbox\n2\n4\nfull null random shm tty urandom zero ');
  t.deepEqual(readdirSync(layer.upperdir), ['etc']);
  t.deepEqual(readdirSync(join(layer.upperdir, 'etc')), ['mine']);
});

test('deletions are recorded in the form the request asks (the store\'s): 0:0 devices, or marked empty files', async (t) => {
  for (const form of ['device', 'xattr'] as const) {
    const layer = fx.layer();
    const r = await sh(ex, [rootfs], 'rm /etc/group', { rootfs: { lowerdirs: [rootfs], ...layer, ...(form === 'device' ? {} : { whiteouts: form }) }, network: 'host' });
    t.is(r.code, 0, r.err);
    const st = lstatSync(join(layer.upperdir, 'etc/group'));
    t.is(st.isCharacterDevice(), form === 'device', form);
    t.is(st.isFile() && st.size === 0, form === 'xattr', form);
    t.is(getXattr(Buffer.from(join(layer.upperdir, 'etc/group')), 'user.tsbuild.whiteout')?.toString(), form === 'xattr' ? 'y' : undefined, form);
  }
});

test('a private network runs on the host network, told once; none, ports, limits, read-only roots and writable binds are refused', async (t) => {
  t.is((await sh(ex, [rootfs], 'true', { network: 'private' })).code, 0);
  t.is((await sh(ex, [rootfs], 'true', { network: 'private' })).code, 0);
  t.is(notices.length, 1, notices.join('\n'));
  t.regex(notices[0]!, /host's network/);
  const none = await t.throwsAsync(sh(ex, [rootfs], 'true', { network: 'none' }));
  t.is((none as { code?: string }).code, 'TSBUILD_SANDBOX_UNSUPPORTED');
  t.regex(none!.message, /network 'none'/);
  const limit = await t.throwsAsync(sh(ex, [rootfs], 'true', { limits: { memoryBytes: 64 << 20 } }));
  t.true(limit instanceof CgroupUnavailableError);
  t.is((limit as CgroupUnavailableError).limit, 'memoryBytes');
  await t.throwsAsync(sh(ex, [rootfs], 'true', { network: 'private', ports: [{ hostPort: 8080, containerPort: 80 }] }), { code: 'TSBUILD_SANDBOX_UNSUPPORTED' });
  await t.throwsAsync(sh(ex, [rootfs], 'true', { rootfs: { lowerdirs: [rootfs], readonly: true } }), { code: 'TSBUILD_SANDBOX_UNSUPPORTED' });
  const src = fx.path('src');
  await t.throwsAsync(sh(ex, [rootfs], 'true', { network: 'host', mounts: [{ type: 'bind', source: src, destination: '/mnt' }] }), { message: /writable bind mount/ });
});

test('a read-only bind is a copy of its source and a tmpfs an empty directory, neither in the result', async (t) => {
  const layer = fx.layer();
  const src = fx.path('src');
  writeFileSync(join(src, 'script'), '#!/bin/sh\necho from the script\n', { mode: 0o755 });
  const r = await sh(ex, [rootfs], '/dev/pipes/run/script; touch /scratch/x; ls /scratch', {
    rootfs: { lowerdirs: [rootfs], ...layer },
    mounts: [{ type: 'bind', source: src, destination: '/dev/pipes/run', readonly: true }, { type: 'tmpfs', destination: '/scratch' }],
    network: 'host',
  });
  t.is(r.code, 0, r.err);
  t.is(r.out, 'from the script\nx\n');
  t.deepEqual(readdirSync(layer.upperdir), []);
});

test('processes the command leaves behind are killed when it exits, in its session or not', async (t) => {
  const r = await sh(ex, [rootfs], 'sleep 4242 >/dev/null 2>&1 & setsid sleep 4243 >/dev/null 2>&1 & echo started', { network: 'host' });
  t.is(r.code, 0, r.err);
  t.is(r.out, 'started\n');
  const left = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return /^sleep\x00424[23]\x00$/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
  t.deepEqual(left, []);
});

test('an abort kills the command and rejects with TSBUILD_CANCELLED; the private root is removed', async (t) => {
  const layer = fx.layer();
  const ac = new AbortController();
  const run = sh(ex, [rootfs], 'echo up; exec sleep 1000', { signal: ac.signal, network: 'host', rootfs: { lowerdirs: [rootfs], ...layer }, onStdout: () => ac.abort() });
  await t.throwsAsync(run, { code: 'TSBUILD_CANCELLED' });
  t.deepEqual(readdirSync(layer.workdir), []);
  t.false(existsSync(join(layer.upperdir, 'bin')));
});

test('no fd of tsbuild reaches the command, even an inheritable one (close_range, or each fd listed before the chroot)', async (t) => {
  const lib = koffi.load('libc.so.6');
  const dup = lib.func('int dup(int fd)');
  const close = lib.func('int close(int fd)');
  const leaky = dup(2) as number; // no O_CLOEXEC: inherited unless the run marks it
  t.true(leaky > 2);
  try {
    const r = await sh(ex, [rootfs], `{ true <&${leaky}; } 2>/dev/null && echo open || echo closed; { true <&2; } && echo stderr-open`, { network: 'host' });
    t.is(r.code, 0, r.err);
    t.is(r.out, 'closed\nstderr-open\n');
  } finally {
    close(leaky);
  }
});

test('exit codes 126 and 127 and an unknown user are results with setupError, as in the sandbox', async (t) => {
  const missing = await sh(ex, [rootfs], '', { process: { args: ['no-such-command'] } as never, network: 'host' });
  t.is(missing.code, 127);
  t.regex(missing.result.setupError ?? '', /executable file not found/);
  const user = await sh(ex, [rootfs], 'true', { process: { user: 'nobody-here' }, network: 'host' });
  t.is(user.code, 125);
  t.regex(user.result.setupError ?? '', /nobody-here/);
});
