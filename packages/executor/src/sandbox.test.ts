/**
 * What a command sees from inside the sandbox. Needs root.
 * Every check compares with something the host has and the sandbox must not.
 */
import anyTest from 'ava';
import koffi from 'koffi';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { sh } from './testing/fixture.js';
import { ex, fx, rootfs, rootOnly, sandboxSuite } from './testing/harness.js';

const test = rootOnly(anyTest);
process.env.SECRET_HOST_TOKEN = 'hunter2-from-the-host';

sandboxSuite(test, { executor: { poolSize: 4 } });

test('the PID namespace hides host processes', async (t) => {
  const r = await sh(ex, [rootfs], 'ls /proc; echo ---; cat /proc/1/cmdline; echo; ps -o pid,comm');
  t.is(r.code, 0, r.err);
  const [listing = '', rest = ''] = r.out.split('---\n');
  const pids = listing.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
  t.true(pids.length >= 2 && pids.length <= 4, `pids: ${pids.join(' ')}`);
  t.false(pids.includes(process.pid));
  t.true(pids.every((p) => p <= 10), `only the sandbox's small PIDs: ${pids.join(' ')}`);
  t.true(rest.startsWith('tsbuild-init'), rest);
  t.true(readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length > 10, 'the host has more processes');
});

test("the hostname is the sandbox's", async (t) => {
  const r = await sh(ex, [rootfs], 'hostname; cat /etc/hostname; cat /etc/hosts', { process: { hostname: 'box-under-test' } });
  t.is(r.code, 0, r.err);
  const [name, file] = r.out.split('\n');
  t.is(name, 'box-under-test');
  t.is(file, 'box-under-test');
  t.regex(r.out, /127\.0\.0\.1\s+localhost box-under-test/);
  t.not(hostname(), 'box-under-test');
});

test('host mounts are invisible', async (t) => {
  const r = await sh(ex, [rootfs], 'cat /proc/self/mountinfo');
  t.is(r.code, 0, r.err);
  const targets = r.out.trim().split('\n').map((l) => l.split(' ')[4]!);
  const allowed = /^\/$|^\/(proc|dev|sys)(\/|$)|^\/etc\/(hosts|resolv\.conf|hostname)$/;
  t.deepEqual(targets.filter((p) => !allowed.test(p)), []);
  const hostOnly = readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').map((l) => l.split(' ')[4]!).filter((p) => !allowed.test(p));
  t.true(hostOnly.length > 0, 'the host has mounts the sandbox must not show');
  t.true(targets.includes('/') && targets.includes('/proc') && targets.includes('/dev/pts'));
});

test('masked paths read empty and refuse writes', async (t) => {
  const files = ['/proc/interrupts', '/proc/timer_list', '/proc/keys', '/proc/kcore', '/proc/sched_debug'].filter((f) => existsSync(f));
  const dirs = ['/proc/acpi', '/proc/scsi', '/sys/firmware'].filter((d) => existsSync(d));
  t.true(readFileSync('/proc/interrupts').length > 0, 'the host file is not empty');
  const script = [
    ...files.map((f) => `echo "${f} $(wc -c < ${f})"`),
    ...dirs.map((d) => `echo "${d} $(ls -A ${d} | wc -l)"`),
    ...files.map((f) => `(echo x > ${f}) 2>/dev/null && echo "wrote ${f}"`),
    ...dirs.map((d) => `touch ${d}/x 2>/dev/null && echo "wrote ${d}"`),
    'true',
  ].join('\n');
  const r = await sh(ex, [rootfs], script);
  t.is(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  t.deepEqual(lines, [...files, ...dirs].map((p) => `${p} 0`));
});

test('/proc/sys and the other read-only paths are read-only', async (t) => {
  const r = await sh(ex, [rootfs], `
    (echo x > /proc/sys/kernel/domainname) 2>/dev/null && echo wrote-domainname
    (echo 1 > /proc/sys/vm/drop_caches) 2>/dev/null && echo wrote-drop-caches
    grep -E ' /proc/(sys|bus|fs|irq) ' /proc/self/mountinfo | cut -d' ' -f5,6
    grep ' /sys ' /proc/self/mountinfo | cut -d' ' -f5,6
    true`);
  t.is(r.code, 0, r.err);
  t.notRegex(r.out, /wrote/);
  const lines = r.out.trim().split('\n');
  t.true(lines.length >= 4, r.out);
  for (const l of lines) t.regex(l, /^\/\S+ ro,/);
});

test("Docker's default capabilities and no others", async (t) => {
  const root = await sh(ex, [rootfs], 'grep -E "^Cap|^NoNewPrivs" /proc/self/status');
  t.is(root.code, 0, root.err);
  t.deepEqual(root.out.trim().split('\n').map((l) => l.replace(/\s+/g, ' ')), [
    'CapInh: 0000000000000000',
    'CapPrm: 00000000a80425fb',
    'CapEff: 00000000a80425fb',
    'CapBnd: 00000000a80425fb',
    'CapAmb: 0000000000000000',
    'NoNewPrivs: 0',
  ]);
  const seccomp = await sh(ex, [rootfs], 'grep -E "^Seccomp:" /proc/self/status');
  t.is(seccomp.out.replace(/\s+/g, ' ').trim(), 'Seccomp: 2');
  const user = await sh(ex, [rootfs], 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status', { process: { user: { uid: 1000, gid: 1000 } } });
  t.deepEqual(user.out.trim().split('\n').map((l) => l.replace(/\s+/g, ' ')), ['CapPrm: 0000000000000000', 'CapEff: 0000000000000000', 'CapBnd: 00000000a80425fb']);
});

test('mount and unshare fail', async (t) => {
  const r = await sh(ex, [rootfs], `
    mkdir -p /mnt
    mount -t tmpfs none /mnt && echo mounted
    unshare -m true && echo unshared
    unshare -n true && echo unshared-net
    unshare -U true && echo userns
    unshare -r true && echo userns-root
    true`);
  t.is(r.code, 0, r.err);
  t.is(r.out, '');
  t.regex(r.err, /Operation not permitted|Permission denied/);
});

test('only fds 0-2 reach the command, even when tsbuild holds an inheritable fd', async (t) => {
  const lib = koffi.load('libc.so.6');
  const dup = lib.func('int dup(int fd)');
  const close = lib.func('int close(int fd)');
  const leaky = dup(2) as number; // no O_CLOEXEC: inherited unless the sandbox marks it
  t.true(leaky > 2);
  try {
    const r = await sh(ex, [rootfs], 'ls /proc/self/fd');
    t.is(r.code, 0, r.err);
    t.deepEqual(r.out.trim().split('\n'), ['0', '1', '2', '3']); // 3: ls's own directory
  } finally {
    close(leaky);
  }
});

test('network none shows only lo, and it is up', async (t) => {
  const r = await sh(ex, [rootfs], 'ls /sys/class/net; echo ---; ip -o link');
  t.is(r.code, 0, r.err);
  const [devs = '', links = ''] = r.out.split('---\n');
  t.deepEqual(devs.trim().split('\n'), ['lo']);
  const l = links.trim().split('\n');
  t.is(l.length, 1);
  t.regex(l[0]!, /^1: lo: <LOOPBACK,UP,LOWER_UP>/);
  t.true(readdirSync('/sys/class/net').length > 1, 'the host has other interfaces');
});

test("network host shares the host's interfaces", async (t) => {
  const r = await sh(ex, [rootfs], 'ls /sys/class/net', { network: 'host' });
  t.is(r.code, 0, r.err);
  t.deepEqual(r.out.trim().split('\n').sort(), readdirSync('/sys/class/net').sort());
});

test("the host's environment does not leak", async (t) => {
  t.is(process.env.SECRET_HOST_TOKEN, 'hunter2-from-the-host');
  const r = await sh(ex, [rootfs], 'env', { process: { env: ['PATH=/bin', 'FOO=bar'] } });
  t.is(r.code, 0, r.err);
  t.false(r.out.includes('hunter2'));
  const names = r.out.trim().split('\n').map((l) => l.split('=')[0]).sort();
  t.deepEqual(names, ['FOO', 'HOME', 'PATH', 'PWD', 'SHLVL']); // PWD and SHLVL are the shell's own
});

test('/dev holds exactly the OCI default devices', async (t) => {
  const r = await sh(ex, [rootfs], 'ls /dev; echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c');
  t.is(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  t.deepEqual(lines.slice(0, -2), ['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
  t.deepEqual(lines.slice(-2), ['4', '4']);
});

test('a device node made in the sandbox cannot be opened (case 100)', async (t) => {
  // c 1:3 is /dev/null's number: harmless, and openable anywhere devices are allowed,
  // so a failure to open it shows the policy itself (this host also refuses its disk).
  const r = await sh(ex, [rootfs], `
    for p in /node /dev/node /dev/shm/node /tmp/node; do
      mknod $p c 1 3 || echo "no mknod $p"
      (echo x > $p) 2>/dev/null && echo "opened $p"
    done
    echo x > /dev/null || echo "the real /dev/null does not work"`);
  t.is(r.code, 0, r.err);
  t.is(r.out, '', 'mknod works (CAP_MKNOD) but the node cannot be opened');
});

test('a workdir outside the root fails before the command runs (CVE-2024-21626)', async (t) => {
  const layer = fx.layer();
  const r = await sh(ex, [rootfs], 'touch /ran; echo ran', { rootfs: { lowerdirs: [rootfs], ...layer }, process: { cwd: '/proc/self/fd/7' } });
  t.is(r.code, 125);
  t.regex(r.result.setupError ?? '', /workdir \/proc\/self\/fd\/7/);
  t.is(r.out, '');
  t.false(existsSync(join(layer.upperdir, 'ran')));
});

test('a missing workdir is created, owned by the user', async (t) => {
  const layer = fx.layer();
  const r = await sh(ex, [rootfs], 'pwd; stat -c %u:%g . ..', { rootfs: { lowerdirs: [rootfs], ...layer }, process: { cwd: '/srv/app/src', user: { uid: 1000, gid: 1000 } } });
  t.is(r.code, 0, r.err);
  t.deepEqual(r.out.trim().split('\n'), ['/srv/app/src', '1000:1000', '1000:1000']);
  const st = statSync(join(layer.upperdir, 'srv/app/src'));
  t.is(st.uid, 1000);
  t.is(statSync(join(layer.upperdir, 'srv')).uid, 1000);
});

test('exit codes pass through; a signal gives 128+n', async (t) => {
  t.is((await sh(ex, [rootfs], 'exit 3')).code, 3);
  const killed = await sh(ex, [rootfs], 'kill -9 $$');
  t.is(killed.code, 137);
  t.is(killed.result.signal, 'SIGKILL');
  const term = await sh(ex, [rootfs], 'kill -TERM $$');
  t.is(term.code, 143);
});

test('not found gives 127, not executable 126', async (t) => {
  const run = (args: string[]) => ex.run({ rootfs: { lowerdirs: [rootfs] }, network: 'none', process: { args, env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } } });
  const missing = await run(['/nonexistent']);
  t.is(missing.exitCode, 127);
  t.regex(missing.setupError ?? '', /nonexistent/);
  t.is((await run(['no-such-command'])).exitCode, 127);
  t.is((await run(['/etc/passwd'])).exitCode, 126);
  t.is((await run(['passwd-not-on-path', 'x'])).exitCode, 127);
  t.is((await run(['true'])).exitCode, 0);
});

test('numeric user with supplementary groups', async (t) => {
  const r = await sh(ex, [rootfs], 'id; echo $HOME', { process: { user: { uid: 1000, gid: 1000, groups: [1000, 2000] } } });
  t.is(r.code, 0, r.err);
  t.deepEqual(r.out.trim().split('\n'), ['uid=1000(tester) gid=1000(tester) groups=1000(tester),2000(extra)', '/home/tester']);
});

test('a user name is resolved from the rootfs, with its groups as docker run gives them (its primary group too)', async (t) => {
  const r = await sh(ex, [rootfs], 'id; echo $HOME', { process: { user: 'tester' } });
  t.is(r.code, 0, r.err);
  t.deepEqual(r.out.trim().split('\n'), ['uid=1000(tester) gid=1000(tester) groups=10(wheel),1000(tester),2000(extra)', '/home/tester']);
  const byGroup = await sh(ex, [rootfs], 'id -u; id -g', { process: { user: 'tester:extra' } });
  t.deepEqual(byGroup.out.trim().split('\n'), ['1000', '2000']);
  const unknown = await sh(ex, [rootfs], 'true', { process: { user: 'nosuchuser' } });
  t.is(unknown.code, 125);
  t.regex(unknown.result.setupError ?? '', /unable to find user nosuchuser/);
});
