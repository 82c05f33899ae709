/**
 * The network of RUN steps and `tsbuild run`, through the CLI: a network of its own by
 * default (the host's loopback out of reach, the rest of the host and the outside in
 * reach), `--network=host` only with `--allow network.host`, `tsbuild run -p`.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { sandboxLayout } from '@tsbuild/executor';
import { busyboxStore } from './helpers/busybox.js';
import { debianMirror, debianStore, reachable } from './helpers/debian.js';
import { CLI, NO_HOST_REGISTRY_CONFIG, REPO, tsbuild } from './helpers/cli.js';
import { removeDir, tempDir, type Teardown } from './helpers/fixtures.js';

async function listen(host: string, reply: string, port = 0): Promise<Server & { port: number }> {
  const s = createServer((c) => c.end(reply));
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => resolve());
  });
  return Object.assign(s, { port: (s.address() as AddressInfo).port });
}

function hostAddress(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** A store with busybox:latest and a context holding `dockerfile`, both removed when the test ends. */
async function setup(t: Teardown, dockerfile: string): Promise<{ root: string; work: string }> {
  const root = await busyboxStore(t);
  const work = await tempDir('net', t);
  await writeFile(join(work, 'Dockerfile'), dockerfile);
  return { root, work };
}

/** Live helper processes (slirp4netns, pasta) left without the tsbuild that started them. */
async function orphanedHelpers(): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (!/^(slirp4netns|passt|pasta)/.test(comm)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z') continue;
    const parent = await readFile(`/proc/${ppid}/cmdline`, 'utf8').catch(() => '');
    if (!parent.includes('cli.js')) out.push(`${pid} ${comm} (parent ${ppid})`);
  }
  return out;
}

test.after('no helper process outlives its tsbuild', async (t) => {
  // Other test files kill tsbuild (kill -9, SIGINT) while it runs: its helper then sees
  // its exit pipe close (or gets its parent-death signal) and exits on its own, which
  // on a loaded machine may take a moment; one still alive after 10 s is a leak.
  let left = await orphanedHelpers();
  for (let i = 0; i < 100 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = await orphanedHelpers();
  }
  t.deepEqual(left, []);
});

test("RUN's default network: the host's 127.0.0.1 is out of reach, its other addresses are not", async (t) => {
  const secret = await listen('127.0.0.1', 'LOOPBACK-SECRET\n');
  const addr = hostAddress();
  const open = addr ? await listen(addr, 'HOST-PUBLIC\n') : undefined;
  const { gateway, dns } = sandboxLayout();
  const tries = ['127.0.0.1', gateway, dns].map((a) => `echo "via ${a}: [$(timeout 10 nc -w 3 ${a} ${secret.port} 2>&1)]"`).join('; ');
  const { root, work } = await setup(t, `FROM busybox\nRUN ${tries}; echo "public: [$(timeout 10 nc -w 5 ${addr ?? '127.0.0.1'} ${open?.port ?? 1})]"\n`);
  try {
    const res = await tsbuild(['build', '--progress', 'plain', work], { root });
    t.is(res.code, 0, res.stderr);
    t.false(res.stderr.includes('LOOPBACK-SECRET'), res.stderr);
    t.regex(res.stderr, /via 127\.0\.0\.1: \[.*refused/);
    if (open) t.regex(res.stderr, /public: \[HOST-PUBLIC\]/);
  } finally {
    secret.close();
    open?.close();
  }
});

test('RUN --network=host needs --allow network.host; with it the host loopback is reachable', async (t) => {
  const secret = await listen('127.0.0.1', 'LOOPBACK-SECRET\n');
  const { root, work } = await setup(t, `FROM busybox\nRUN echo first\nRUN --network=host nc -w 3 127.0.0.1 ${secret.port} > /got\n`);
  try {
    const refused = await tsbuild(['build', '--progress', 'plain', work], { root });
    t.is(refused.code, 1);
    t.regex(refused.stderr, /Dockerfile:3: RUN --network=host is not allowed: it needs the network.host entitlement, given with --allow network.host/);
    t.false(refused.stderr.includes('echo first'), 'refused before any step ran');
    const out = join(work, 'out');
    const allowed = await tsbuild(['build', '--allow', 'network.host', '-o', `type=local,dest=${out}`, work], { root });
    t.is(allowed.code, 0, allowed.stderr);
    t.is(await readFile(join(out, 'got'), 'utf8'), 'LOOPBACK-SECRET\n');
    const bad = await tsbuild(['build', '--allow', 'network.everything', work], { root });
    t.is(bad.code, 2);
    t.regex(bad.stderr, /--allow network.everything: unknown entitlement, want network.host/);
  } finally {
    secret.close();
  }
});

test('without slirp4netns or pasta on PATH the default network is a clear error; --network=none still works', async (t) => {
  const { root, work } = await setup(t, 'FROM busybox\nRUN --network=none echo none-works\nRUN echo default\n');
  const emptyPath = join(work, 'empty-bin');
  await mkdir(emptyPath);
  const res = await tsbuild(['build', '--progress', 'plain', work], { root, env: { PATH: emptyPath } });
  t.is(res.code, 1);
  t.regex(res.stderr, /none-works/);
  t.regex(res.stderr, /Dockerfile:3: .*slirp4netns or pasta is not installed \(Debian and Ubuntu: apt-get install slirp4netns/);
  t.notRegex(res.stderr, /\n\s+at /, 'no stack trace');
  const run = await tsbuild(['run', 'busybox', 'true'], { root, env: { PATH: emptyPath } });
  t.is(run.code, 125, 'tsbuild run fails like docker run: 125');
  t.regex(run.stderr, /slirp4netns or pasta is not installed/);
  t.notRegex(run.stderr, /\n\s+at /, 'no stack trace');
});

test('tsbuild run -p HOSTPORT:80 publishes a web server an HTTP client on the host can reach', async (t) => {
  const root = await busyboxStore();
  const port = await listen('0.0.0.0', '').then((s) => new Promise<number>((r) => s.close(() => r(s.port))));
  const child = spawn(process.execPath, [CLI, 'run', '-p', `${port}:80`, 'busybox', 'sh', '-c', 'mkdir -p /www && echo served-by-tsbuild-run > /www/index.html && httpd -p 80 -h /www && echo up && exec sleep 1000'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TSBUILD_ROOT: root, ...NO_HOST_REGISTRY_CONFIG },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const up = await Promise.race([new Promise<boolean>((r) => child.stdout.once('data', () => r(true))), exited.then(() => false)]);
    t.true(up, stderr);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    t.is(res.status, 200);
    t.is(await res.text(), 'served-by-tsbuild-run\n');
  } finally {
    child.kill('SIGINT');
    await exited;
    await removeDir(join(root, '..'));
  }
  const again = await fetch(`http://127.0.0.1:${port}/`).then(() => 'still served', () => 'gone');
  t.is(again, 'gone', 'the port is closed once the container is gone');
});

test('tsbuild run -p with a host port in use fails with 125 and says so', async (t) => {
  const root = await busyboxStore();
  const taken = await listen('0.0.0.0', '');
  try {
    const res = await tsbuild(['run', '-p', `${taken.port}:80`, 'busybox', 'echo', 'ran'], { root });
    t.is(res.code, 125);
    t.is(res.stdout, '');
    t.regex(res.stderr, new RegExp(`tsbuild run: network: .*${taken.port}`));
    const usage = await tsbuild(['run', '-p', '80', 'busybox', 'true'], { root });
    t.is(usage.code, 125);
    t.regex(usage.stderr, /-p 80: give the host port too/);
  } finally {
    taken.close();
    await removeDir(join(root, '..'));
  }
});

test("RUN reaches Debian's mirror by name (apt-get update's path: DNS, then HTTP)", async (t) => {
  const url = 'http://deb.debian.org/debian/dists/stable/Release';
  if (!(await reachable(url))) {
    t.log(`${url} is not reachable from this host: skipped`);
    t.pass();
    return;
  }
  const { root, work } = await setup(t, `FROM busybox\nRUN wget -q -O /release ${url} && grep -q '^Origin: Debian' /release && echo mirror-ok\n`);
  const res = await tsbuild(['build', '--progress', 'plain', work], { root });
  t.is(res.code, 0, res.stderr);
  t.regex(res.stderr, /mirror-ok/);
});

test("RUN apt-get update in the default network: a Debian base reaches its mirror (DNS through the sandbox's resolver)", async (t) => {
  const mirror = await debianMirror();
  if (!(await reachable(`${mirror}/dists/bookworm/Release`))) {
    t.log(`${mirror} is not reachable from this host: skipped`);
    t.pass();
    return;
  }
  const root = await debianStore(mirror);
  const work = await tempDir('net-apt');
  try {
    await writeFile(join(work, 'Dockerfile'), 'FROM debian:bookworm\nRUN apt-get update && echo apt-update-ok\n');
    const res = await tsbuild(['build', '--progress', 'plain', work], { root });
    t.is(res.code, 0, res.stderr);
    t.regex(res.stderr, /Get:\d+ \S+ bookworm/);
    t.regex(res.stderr, /apt-update-ok/);
  } finally {
    await removeDir(work);
    await removeDir(join(root, '..'));
  }
});
