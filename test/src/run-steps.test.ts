/**
 * RUN steps: what the sandbox sees, the layers it produces (checked with umoci), and
 * what is left on the host afterwards (nothing), including after SIGINT mid-RUN.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, NO_HOST_REGISTRY_CONFIG, run, tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { removeDir, tempDir } from './helpers/fixtures.js';
import { ourMounts, processesMatching } from './helpers/host.js';
import { storeFingerprint } from './helpers/store.js';

const hostMountsAtStart = await ourMounts('/run/tsbuild');

test.after.always('after every RUN test: no sandbox mount on the host, no sandbox process alive', async (t) => {
  t.deepEqual(await ourMounts('/run/tsbuild'), hostMountsAtStart);
  t.deepEqual(await processesMatching('/bin/sh -c '), [], 'no RUN shell outlives its build');
});

/** The same listing inside the sandbox (busybox in the image) and on the host (Debian's busybox over umoci's rootfs). */
const LISTING = `find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./listing.txt -o -path ./etc/hosts -o -path ./etc/hostname -o -path ./etc/resolv.conf \\) -prune -o -print | sort | while read -r f; do if [ -d "$f" ] && [ ! -L "$f" ]; then stat -c '%n|%F|%a|%u|%g' "$f"; else stat -c '%n|%F|%a|%u|%g|%s|%h|%N' "$f"; fi; done`;

test('layers from RUN: deletions, replaced dirs, chmod-only, hardlinks, setuid and symlinks come out as the sandbox saw them', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('layers', t);
  await writeFile(
    join(work, 'Dockerfile'),
    [
      'FROM busybox',
      'RUN mkdir -p /data/keep /data/replace/sub && echo a > /data/file && echo b > /data/replace/sub/old && echo c > /data/chmod-me && echo d > /data/delete-me && mkdir /data/dir-to-file',
      'RUN rm /data/delete-me /bin/vi && rm -rf /data/replace && mkdir /data/replace && echo new > /data/replace/new',
      'RUN chmod 600 /data/chmod-me && rmdir /data/dir-to-file && echo now-a-file > /data/dir-to-file',
      'RUN ln /data/file /data/hardlink && ln -s ../data/file /data/symlink && ln -s /absolute/target /data/abs && cp /bin/busybox /data/suid && chmod 4755 /data/suid && chmod 2755 /data/keep && mkdir -m 1777 /data/sticky',
      `RUN cd / && ${LISTING} > /listing.txt`,
    ].join('\n'),
  );
  const res = await tsbuild(['build', '--progress', 'plain', '-t', 'layers', '-o', `type=oci,dest=${work}/layout,tar=false`, work], { root });
  t.is(res.code, 0, res.stderr);
  await run('umoci', ['unpack', '--image', `${work}/layout:latest`, `${work}/bundle`]);
  const rootfs = join(work, 'bundle', 'rootfs');
  const sandboxView = await readFile(join(rootfs, 'listing.txt'), 'utf8');
  const hostView = (await run('busybox', ['sh', '-c', LISTING], { cwd: rootfs })).stdout;
  t.is(hostView, sandboxView);
  t.regex(sandboxView, /^\.\/data\/suid\|regular file\|4755\|0\|0\|/m);
  t.regex(sandboxView, /^\.\/data\/sticky\|directory\|1777\|0\|0$/m);
  t.regex(sandboxView, /^\.\/data\/hardlink\|regular file\|644\|0\|0\|2\|2\|/m);
  t.regex(sandboxView, /^\.\/data\/replace\/new\|/m);
  t.notRegex(sandboxView, /data\/replace\/sub|data\/delete-me|\.\/bin\/vi\|/);
  // The deletions are whiteouts in the layers (and the replaced dir is opaque).
  // Only the gzip blobs are layers; tar fails on the JSON ones (the loop must not end on that).
  const layers = await run('sh', ['-c', `for b in ${work}/layout/blobs/sha256/*; do tar -tzf "$b" 2>/dev/null || :; done`]);
  t.regex(layers.stdout, /^data\/\.wh\.delete-me$/m);
  t.regex(layers.stdout, /^bin\/\.wh\.vi$/m);
  t.regex(layers.stdout, /^data\/replace\/\.wh\.\.wh\.\.opq$/m);
});

test('inside RUN: own PID namespace and hostname, no host mounts or env, default caps, network none', async (t) => {
  const root = await busyboxStore();
  const work = await tempDir('inside');
  const hostMount = await tempDir('host-only-mount');
  await run('mount', ['-t', 'tmpfs', 'tmpfs', hostMount]);
  try {
    await writeFile(
      join(work, 'Dockerfile'),
      [
        'FROM busybox',
        `RUN echo "pid=$$" > /out; hostname >> /out && grep CapEff /proc/self/status >> /out && (mount -t tmpfs none /mnt 2>/dev/null && echo mount-ok || echo mount-denied) >> /out && (unshare -m true 2>/dev/null && echo unshare-ok || echo unshare-denied) >> /out && ls /proc/self/fd | tr "\\n" " " >> /out && echo >> /out && (env | grep -c SECRET_HOST_TOKEN || true) >> /out && (grep -c ${hostMount.split('/').pop()} /proc/self/mountinfo || true) >> /out; cat /proc/kcore | wc -c >> /out; (echo 1 > /proc/sys/kernel/core_pattern) 2>/dev/null || echo proc-sys-ro >> /out; ls /proc | grep -c "^[0-9]" >> /out`,
        'RUN --network=none ls /sys/class/net > /net',
      ].join('\n'),
    );
    const res = await tsbuild(['build', '-q', '-t', 'inside', '-o', `type=local,dest=${work}/out`, work], { root, env: { SECRET_HOST_TOKEN: 'hunter2' } });
    t.is(res.code, 0, res.stderr);
    const out = (await readFile(join(work, 'out', 'out'), 'utf8')).split('\n');
    t.regex(out[0]!, /^pid=[12]$/, 'the RUN command is the first process of its own PID namespace (after our init)');
    t.deepEqual(out.slice(1, 10), [
      'buildkitsandbox',
      'CapEff:\t00000000a80425fb',
      'mount-denied',
      'unshare-denied',
      '0 1 2 3 ',
      '0',
      '0',
      '0',
      'proc-sys-ro',
    ]);
    t.true(Number(out[10]) <= 4, `only the RUN's own processes are visible (${out[10]})`);
    t.is(await readFile(join(work, 'out', 'net'), 'utf8'), 'lo\n');
  } finally {
    await run('umount', [hostMount]);
    await removeDir(hostMount);
    await removeDir(work);
    await removeDir(join(root, '..'));
  }
});

test('WORKDIR /proc/self/fd/7 fails before the command runs', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('cwd', t);
  await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nWORKDIR /proc/self/fd/7\nRUN echo command-$((40+2))\n');
  const res = await tsbuild(['build', '--progress', 'plain', work], { root });
  t.is(res.code, 1);
  t.regex(res.stderr, /Dockerfile:3: RUN could not start/);
  t.notRegex(res.stderr, /command-42/);
});

test('a failing RUN names its line and exit code; the steps before it stay cached, nothing is tagged', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('fail', t);
  await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nRUN echo ok > /ok\nRUN echo about to fail && exit 7\n');
  const tagsBefore = (await tsbuild(['images', '-q'], { root })).stdout;
  const res = await tsbuild(['build', '--progress', 'plain', '-t', 'fails:1', work], { root });
  t.is(res.code, 1);
  t.regex(res.stderr, /about to fail/);
  t.regex(res.stderr, /Dockerfile:3: process "\/bin\/sh -c echo about to fail && exit 7" did not complete successfully: exit code: 7/);
  t.is((await tsbuild(['images', '-q'], { root })).stdout, tagsBefore, 'nothing tagged');
  t.is((await tsbuild(['store', 'verify'], { root })).code, 0);
  await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nRUN echo ok > /ok\nRUN echo fixed\n');
  const fixed = await tsbuild(['build', '--progress', 'plain', '-t', 'fails:1', work], { root });
  t.is(fixed.code, 0, fixed.stderr);
  t.regex(fixed.stderr, /#2 CACHED/, 'the step before the failure is reused, like BuildKit');
});

test('SIGINT in the middle of a RUN: the build stops, and no process or mount of ours is left', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('sigint', t);
  const marker = `sleep ${4000 + Math.floor(Math.random() * 1000)}`;
  await writeFile(join(work, 'Dockerfile'), `FROM busybox\nRUN echo started && ${marker} & ${marker}; echo never\n`);
  const mountsBefore = [...(await ourMounts(root)), ...(await ourMounts('/run/tsbuild'))];
  const before = await storeFingerprint(root);
  const child = spawn(process.execPath, [CLI, 'build', '--progress', 'plain', work], { env: { ...process.env, ...NO_HOST_REGISTRY_CONFIG, TSBUILD_ROOT: root }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // Wait for the RUN's own word, then for its processes (however slow the machine is).
  await new Promise<void>((resolve, reject) => {
    const check = () => (stderr.includes('started') ? resolve() : undefined);
    child.stderr.on('data', check);
    child.on('close', () => reject(new Error(`the build ended before the RUN started:\n${stderr}`)));
    check();
  });
  while ((await processesMatching(marker)).length < 3) await sleep(50);
  t.is((await processesMatching(marker)).length, 3, 'the RUN is running: its shell and two sleeps');
  child.kill('SIGINT');
  const code = await exited;
  t.not(code, 0);
  t.regex(stderr, /cancel/i);
  // tsbuild exits only after the sandbox's init is reaped, so nothing of the RUN is left.
  t.deepEqual(await processesMatching(marker), [], 'every process of the RUN is gone');
  t.deepEqual([...(await ourMounts(root)), ...(await ourMounts('/run/tsbuild'))], mountsBefore, 'no mount of ours on the host');
  t.deepEqual(await storeFingerprint(root), before, 'store unchanged');
});
