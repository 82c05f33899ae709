/**
 * The `private` network, with each user-mode helper that is installed (slirp4netns and
 * pasta; TSBUILD_NETWORK_HELPER's switch is the executor's `networkHelper` option here).
 * Needs root. Nothing here needs the internet: the "outside" is a listener on one of the
 * host's own non-loopback addresses, and DNS is a test server.
 */
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExecutorError } from './errors.js';
import { createExecutor } from './executor.js';
import { chooseHelper, HELPER_KINDS, type HelperKind } from './network/helpers.js';
import { pickLayout, sandboxLayout } from './network/layout.js';
import { sandboxResolvConf } from './network/resolv-conf.js';
import { startDnsServer } from './testing/dns-server.js';
import { sh } from './testing/fixture.js';
import { descendants } from './testing/leaks.js';
import { fx, rootfs, sandboxSuite } from './testing/harness.js';
import type { Executor } from './types.js';

const root = process.getuid?.() === 0;
const test = (root ? anyTest : anyTest.skip) as TestFn<unknown>;
const installed = HELPER_KINDS.filter((k) => {
  try {
    return chooseHelper(k) !== undefined;
  } catch {
    return false;
  }
});

const executors = new Map<HelperKind, Executor>();
const ex = (kind: HelperKind) => executors.get(kind)!;

sandboxSuite(test, {
  executor: false,
  title: 'no mount, no process (helpers included) and no zombie of ours is left',
  // close() waits for the killed helpers to be reaped (their exit takes the tap device down).
  close: () => Promise.all([...executors.values()].map((e) => e.close())),
});

test.before(() => {
  for (const k of installed) executors.set(k, createExecutor({ poolSize: 2, networkHelper: k }));
});

async function listen(host: string, reply: string): Promise<Server & { port: number }> {
  const s = createServer((c) => c.end(reply));
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, host, () => resolve());
  });
  return Object.assign(s, { port: (s.address() as AddressInfo).port });
}

/** A free TCP port of the host (bound and released). */
async function freePort(): Promise<number> {
  const s = await listen('0.0.0.0', '');
  await new Promise((r) => s.close(r));
  return s.port;
}

/** One of the host's IPv4 addresses that is not loopback. */
function hostAddress(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

const eachHelper = (title: string, fn: (t: ExecutionContext, kind: HelperKind) => Promise<void>) => {
  for (const kind of HELPER_KINDS) {
    (installed.includes(kind) ? test : test.skip)(`${kind}: ${title}`, (t) => fn(t, kind));
  }
};

const L = sandboxLayout();
const re = (ip: string) => ip.replace(/\./g, '\\.');

eachHelper('the sandbox has lo and one interface at .100 of its /24, routed through .2', async (t, kind) => {
  const r = await sh(ex(kind), [rootfs], 'ls /sys/class/net; echo ---; ip -4 -o addr; echo ---; ip route', { network: 'private' });
  t.is(r.code, 0, r.err + (r.result.setupError ?? ''));
  const [ifaces = '', addrs = '', routes = ''] = r.out.split('---\n');
  const names = ifaces.trim().split('\n');
  t.is(names.length, 2, ifaces);
  t.true(names.includes('lo'));
  t.regex(addrs, new RegExp(`inet ${re(L.address)}/24`));
  t.regex(addrs, /lo\s+inet 127\.0\.0\.1\/8/);
  t.regex(routes, new RegExp(`^default via ${re(L.gateway)}`, 'm'));
});

eachHelper("the host's loopback is unreachable; its other addresses and ports are reachable", async (t, kind) => {
  const secret = await listen('127.0.0.1', 'LOOPBACK-SECRET\n');
  const addr = hostAddress();
  const open = addr !== undefined ? await listen(addr, 'HOST-PUBLIC\n') : undefined;
  try {
    // The loopback listener's port tried on every address that could lead there; what
    // it would send is the proof (pasta accepts a connection to the gateway first and
    // closes it when its own connect on the host fails). `timeout` bounds a helper that
    // misbehaves instead of failing the test by ava's timeout.
    const tries = ['127.0.0.1', L.gateway, L.dns].map((a) => `timeout 10 nc -w 3 ${a} ${secret.port}`).join('; ');
    const reach = open ? `timeout 10 nc -w 5 ${addr} ${open.port}` : 'true';
    // The sandbox's addresses and routes after the tries, so a failure shows the network it had.
    const r = await sh(ex(kind), [rootfs], `${tries}; ${reach}; echo '-- network:'; ip -4 -o addr; ip -4 route`, { network: 'private' });
    t.is(r.result.setupError, undefined);
    t.false(r.out.includes('LOOPBACK-SECRET'), r.out);
    if (open) t.true(r.out.includes('HOST-PUBLIC'), `${r.out}\n${r.err}`);
    else t.log('the host has no non-loopback IPv4 address: only the loopback half was checked');
  } finally {
    secret.close();
    open?.close();
  }
});

eachHelper('-p publishes a port: HTTP from the host reaches a server in the sandbox', async (t, kind) => {
  const port = await freePort();
  const ac = new AbortController();
  let body = '';
  let status = 0;
  const run = sh(ex(kind), [rootfs], 'mkdir -p /www && echo hello-from-the-sandbox > /www/index.html && httpd -p 80 -h /www && echo up && exec sleep 1000', {
    network: 'private',
    ports: [{ hostPort: port, containerPort: 80 }],
    signal: ac.signal,
    onStdout: () => {
      void (async () => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/`);
          status = res.status;
          body = await res.text();
        } finally {
          ac.abort();
        }
      })();
    },
  });
  const err = await t.throwsAsync(run, { instanceOf: ExecutorError });
  t.is(err?.code, 'TSBUILD_CANCELLED');
  t.is(status, 200);
  t.is(body, 'hello-from-the-sandbox\n');
});

eachHelper('a host port that is taken fails the run (125) before the command starts', async (t, kind) => {
  const taken = await listen('0.0.0.0', '');
  try {
    const r = await sh(ex(kind), [rootfs], 'echo the command ran', { network: 'private', ports: [{ hostPort: taken.port, containerPort: 80 }] });
    t.is(r.code, 125);
    t.is(r.out, '');
    t.regex(r.result.setupError ?? '', new RegExp(`network: .*${taken.port}`));
  } finally {
    taken.close();
  }
});

eachHelper('DNS: a resolver on the host\'s loopback is reached through the forwarder (.3)', async (t, kind) => {
  // A child tsbuild in a mount namespace whose /etc/resolv.conf names a DNS server on the
  // host's loopback (as systemd-resolved's 127.0.0.53 does); the test runs that server.
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-exec-test-dns-'));
  const server = `127.83.${HELPER_KINDS.indexOf(kind)}.53`; // one per helper: the tests run in parallel
  const dns = await startDnsServer(server, new Map([['tsbuild-dns-test.invalid', '192.0.2.123']]));
  try {
    writeFileSync(join(dir, 'resolv.conf'), `search example.invalid\nnameserver ${server}\noptions ndots:1\n`);
    const lib = new URL('./index.js', import.meta.url).href;
    const script = `
      const { createExecutor } = await import(${JSON.stringify(lib)});
      const ex = createExecutor({ poolSize: 1, networkHelper: ${JSON.stringify(kind)} });
      let out = '';
      const r = await ex.run({ rootfs: { lowerdirs: [${JSON.stringify(rootfs)}] }, network: 'private',
        process: { args: ['/bin/sh', '-c', 'cat /etc/resolv.conf; echo ---; nslookup tsbuild-dns-test.invalid'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
        onStdout: (b) => (out += b), onStderr: (b) => (out += b) });
      await ex.close();
      process.stdout.write(JSON.stringify({ code: r.exitCode, setupError: r.setupError, out }));`;
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount --bind "$0" /etc/resolv.conf && exec "$@"`, join(dir, 'resolv.conf'), process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let json = '';
    let stderr = '';
    child.stdout.on('data', (b) => (json += b));
    child.stderr.on('data', (b) => (stderr += b));
    const status = await new Promise((r) => child.once('close', r));
    t.is(status, 0, stderr);
    const r = JSON.parse(json) as { code: number; setupError?: string; out: string };
    t.is(r.code, 0, r.setupError ?? r.out);
    const [conf = '', lookup = ''] = r.out.split('---\n');
    t.is(conf, `search example.invalid\noptions ndots:1\nnameserver ${L.dns}\n`);
    t.regex(lookup, /Address:\s+192\.0\.2\.123/);
    t.true(dns.queries.includes('tsbuild-dns-test.invalid'), dns.queries.join(' '));
  } finally {
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

eachHelper('kill -9 of tsbuild takes the helper with it', async (t, kind) => {
  const lib = new URL('./index.js', import.meta.url).href;
  const script = `
    const { createExecutor } = await import(${JSON.stringify(lib)});
    const ex = createExecutor({ poolSize: 1, networkHelper: ${JSON.stringify(kind)} });
    await ex.run({ rootfs: { lowerdirs: [${JSON.stringify(rootfs)}] }, network: 'private',
      process: { args: ['/bin/sh', '-c', 'echo up; exec sleep 1000'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
      onStdout: () => process.stdout.write('up\\n') });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const helpers = descendants(child.pid).filter((l) => /^\d+ \S*(slirp4netns|pasta|passt)/.test(l));
  t.is(helpers.length, 1, descendants(child.pid).join('\n'));
  const pid = Number(helpers[0]!.split(' ')[0]);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  let alive = true;
  for (let i = 0; i < 500 && alive; i++) {
    try {
      alive = !/^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/, 'x'));
    } catch {
      alive = false;
    }
    if (alive) await sleep(20);
  }
  t.false(alive, `${kind} (pid ${pid}) outlived tsbuild`);
});

eachHelper('a setup that fails after the helper started stops it (125, nothing left)', async (t, kind) => {
  const r = await sh(ex(kind), [rootfs], 'echo the command ran', { network: 'private', mounts: [{ type: 'bind', source: '/nonexistent/tsbuild-test', destination: '/mnt' }] });
  t.is(r.code, 125);
  t.is(r.out, '');
  t.regex(r.result.setupError ?? '', /bind mount source \/nonexistent\/tsbuild-test/);
  // The after() hook checks that no helper process or zombie is left.
});

eachHelper('prewarmed: idle workers have their helper up; runs of every network use or leave it; close() stops them', async (t, kind) => {
  const own = createExecutor({ poolSize: 2, prewarmNetwork: true, networkHelper: kind });
  try {
    const helpers = () => descendants().filter((l) => /^\d+ \S*(slirp4netns|pasta|passt)/.test(l) && l.includes('/proc/self/fd/'));
    // Two idle workers, each with its own helper (started once the worker is ready).
    const warm = await sh(own, [rootfs], 'ip -4 -o addr show scope global', { network: 'private' });
    t.is(warm.code, 0, warm.err + (warm.result.setupError ?? ''));
    t.regex(warm.out, new RegExp(`inet ${re(L.address)}/24`));
    const host = await sh(own, [rootfs], 'ls /sys/class/net', { network: 'host' });
    t.deepEqual(host.out.trim().split('\n').sort(), readdirSync('/sys/class/net').sort(), 'back in the host namespace');
    const none = await sh(own, [rootfs], 'ls /sys/class/net', { network: 'none' });
    t.is(none.out, 'lo\n');
    const port = await freePort();
    const ac = new AbortController();
    let body = '';
    const served = sh(own, [rootfs], 'mkdir -p /www && echo prewarm-ports > /www/index.html && httpd -p 80 -h /www && echo up && exec sleep 1000', {
      network: 'private', ports: [{ hostPort: port, containerPort: 80 }], signal: ac.signal,
      onStdout: () => void fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()).then((b) => (body = b)).finally(() => ac.abort()),
    });
    await t.throwsAsync(served, { instanceOf: ExecutorError });
    t.is(body, 'prewarm-ports\n');
    const again = await sh(own, [rootfs], 'ip -4 -o addr show scope global', { network: 'private' });
    t.regex(again.out, new RegExp(`inet ${re(L.address)}/24`));
    // The pool refills in the background; a refilled worker's helper shows up when it is ready.
    let n = helpers().length;
    for (let i = 0; i < 600 && n === 0; i++) {
      await sleep(100);
      n = helpers().length;
    }
    t.true(n >= 1, 'the refilled idle workers are prewarmed');
  } finally {
    await own.close();
  }
  // The after() hook checks that close() left no helper and no zombie.
});

test('without slirp4netns or pasta: a clear error naming the packages; nothing was started', (t) => {
  const err = t.throws(() => chooseHelper(undefined, { dirs: [fx.path('empty-bin')] }), { instanceOf: ExecutorError });
  t.is(err?.code, 'TSBUILD_SANDBOX_UNSUPPORTED');
  t.regex(err!.message, /slirp4netns or pasta is not installed/);
  t.regex(err!.message, /apt-get install slirp4netns/);
  t.regex(err!.message, /--network host or --network none/);
});

test('without /dev/net/tun: a clear error naming the driver', (t) => {
  const err = t.throws(() => chooseHelper(undefined, { tun: join(fx.dir, 'no-such-tun') }), { instanceOf: ExecutorError });
  t.is(err?.code, 'TSBUILD_SANDBOX_UNSUPPORTED');
  t.regex(err!.message, /no-such-tun \(Linux's tun driver, CONFIG_TUN\), which is missing: load the driver with modprobe tun/);
});

test('an unknown helper name is refused', async (t) => {
  const own = createExecutor({ poolSize: 1, networkHelper: 'vde' });
  try {
    const err = await t.throwsAsync(sh(own, [rootfs], 'true', { network: 'private' }), { instanceOf: ExecutorError });
    t.is(err?.code, 'TSBUILD_SANDBOX_UNSUPPORTED');
    t.regex(err!.message, /unknown network helper "vde"/);
  } finally {
    await own.close();
  }
});

test('ports need a private network and sane numbers', async (t) => {
  const e = createExecutor({ poolSize: 1 });
  try {
    for (const [req, msg] of [
      [{ network: 'host' as const, ports: [{ hostPort: 8080, containerPort: 80 }] }, /only be published from a private network/],
      [{ network: 'private' as const, ports: [{ hostPort: 0, containerPort: 80 }] }, /1-65535/],
      [{ network: 'private' as const, ports: [{ hostPort: 8080, containerPort: 80, hostIp: '::1' }] }, /IPv4/],
      [{ network: 'private' as const, ports: [{ hostPort: 8080, containerPort: 80 }, { hostPort: 8080, containerPort: 81 }] }, /published twice/],
    ] as const) {
      const err = await t.throwsAsync(sh(e, [rootfs], 'true', req), { instanceOf: ExecutorError });
      t.regex(err!.message, msg);
    }
  } finally {
    await e.close();
  }
});

anyTest('resolv.conf: loopback and IPv6 nameservers give way to the forwarder, others stay', (t) => {
  t.is(sandboxResolvConf('nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n', '10.0.2.3'), 'options edns0 trust-ad\nsearch lan\nnameserver 10.0.2.3\n');
  t.is(sandboxResolvConf('nameserver 10.1.2.3\nnameserver 127.0.0.1\nnameserver ::1\nnameserver fd00::53\nnameserver 8.8.8.8\n', '10.0.2.3'), 'nameserver 10.1.2.3\nnameserver 8.8.8.8\n');
  t.is(sandboxResolvConf('', '10.0.2.3'), 'nameserver 10.0.2.3\n', 'no nameserver means 127.0.0.1 to the resolver');
  t.is(sandboxResolvConf('# comment\nnameserver 1.1.1.1\n', '10.0.2.3', { forwardAll: true }), '# comment\nnameserver 10.0.2.3\n');
});

anyTest("the sandbox's /24 is 10.0.2.0 unless the host's interfaces or routes overlap it", (t) => {
  const net = (a: string, b: string): [number, number] => [a, b].map((ip) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0)) as [number, number];
  t.is(pickLayout([]).cidr, '10.0.2.0/24');
  t.deepEqual(pickLayout([net('192.0.2.0', '192.0.2.255')]), { cidr: '10.0.2.0/24', address: '10.0.2.100', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', mtu: 65520 });
  t.is(pickLayout([net('10.0.2.0', '10.0.2.255')]).cidr, '10.0.3.0/24', "qemu's user network on the host");
  t.is(pickLayout([net('10.0.0.0', '10.0.3.255')]).cidr, '10.0.4.0/24');
  t.is(pickLayout([net('10.0.0.0', '10.255.255.255')]).cidr, '172.31.250.0/24', 'a VPN route for all of 10/8');
  t.is(sandboxLayout().cidr.endsWith('.0/24'), true);
});
