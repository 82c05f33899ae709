/**
 * Isolation modes from the command line: `--isolation chroot` builds the image the
 * sandbox builds (same image ID under SOURCE_DATE_EPOCH: deletions, replaced
 * directories, hardlinks, owners, setuid bits, symlinks); without CAP_SYS_ADMIN (setpriv,
 * as in a container with docker's default capabilities) `auto` picks chroot, says so
 * once, and builds and runs; bad values are usage errors naming the flag; `tsbuild info`
 * says what this machine allows.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, NO_HOST_REGISTRY_CONFIG, outputOf, REPO, tsbuild, type CliResult } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { tempDir } from './helpers/fixtures.js';
import { processesMatching } from './helpers/host.js';

test.after.always('no RUN shell outlives its build', async (t) => {
  t.deepEqual(await processesMatching('/bin/sh -c '), []);
});

const DOCKERFILE = [
  'FROM busybox',
  'RUN mkdir -p /data/keep /data/replace/sub && echo a > /data/file && echo b > /data/replace/sub/old && echo d > /data/delete-me && ln /data/file /data/linked && mkdir /data/dir-to-file && chown 1000:1000 /data/file',
  'RUN rm /data/delete-me /bin/vi && rm -rf /data/replace && mkdir /data/replace && echo new > /data/replace/new && echo more >> /data/file',
  'RUN rmdir /data/dir-to-file && echo now-a-file > /data/dir-to-file && ln /data/replace/new /data/new-link && ln -s /absolute/target /data/abs && cp /bin/busybox /data/suid && chmod 4755 /data/suid && mkdir -m 1777 /data/sticky',
  'USER 1000:1000',
  'WORKDIR /home/someone',
  'RUN echo mine > mine',
].join('\n');

/** The CLI with capabilities taken away first (setpriv from util-linux), as a container without --privileged has them. */
function withoutSysAdmin(args: string[], root: string, env: Record<string, string> = {}): Promise<CliResult> {
  return outputOf(
    spawn('setpriv', ['--inh-caps=-sys_admin', '--bounding-set=-sys_admin', process.execPath, CLI, ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', TSBUILD_ROOT: root, ...NO_HOST_REGISTRY_CONFIG, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

test('chroot isolation builds the image the sandbox builds', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('iso', t);
  await writeFile(join(work, 'Dockerfile'), DOCKERFILE);
  const ids: string[] = [];
  for (const isolation of ['sandbox', 'chroot']) {
    const res = await tsbuild(['build', '-q', '--no-cache', '--isolation', isolation, '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', work], { root });
    t.is(res.code, 0, res.stderr);
    ids.push(res.stdout.trim());
  }
  t.regex(ids[0]!, /^sha256:[0-9a-f]{64}$/);
  t.is(ids[1], ids[0]);
});

test('without CAP_SYS_ADMIN, auto picks chroot, says why once, and RUN steps and tsbuild run work', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('iso-auto', t);
  await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nRUN echo one > /one\nRUN echo two > /two\n');
  const res = await withoutSysAdmin(['build', '--progress', 'plain', '-t', 'auto-built', work], root);
  t.is(res.code, 0, res.stderr);
  const said = res.stderr.split('\n').filter((l) => l.includes('isolation: '));
  t.deepEqual(said, ['#0 isolation: chroot (this machine cannot create namespaces: unshare(CLONE_NEWNS): EPERM)']);
  t.is(res.stderr.split('\n').filter((l) => l.includes("use the host's network")).length, 1, 'the network notice is said once');
  const ran = await withoutSysAdmin(['run', 'auto-built', 'cat', '/one', '/two'], root);
  t.is(ran.code, 0, ran.stderr);
  t.is(ran.stdout, 'one\ntwo\n');
  t.regex(ran.stderr, /^tsbuild run: isolation: chroot \(this machine cannot create namespaces/m);
  const none = await withoutSysAdmin(['run', '--network', 'none', 'auto-built', 'true'], root);
  t.is(none.code, 125);
  t.regex(none.stderr, /network 'none' needs a network namespace/);
});

test('without CAP_SYS_ADMIN, a replaced directory comes out opaque, and its image loads and runs there', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('iso-opaque', t);
  await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nRUN mkdir /d && touch /d/old\nRUN rm -rf /d && mkdir /d && touch /d/new\n');
  const built = await withoutSysAdmin(['build', '-q', '-t', 'opaque', '-o', `type=oci,dest=${work}/opaque.tar`, work], root);
  t.is(built.code, 0, built.stderr);
  const other = join(work, 'store2');
  const loaded = await withoutSysAdmin(['load', '-i', `${work}/opaque.tar`], other);
  t.is(loaded.code, 0, loaded.stderr);
  const ran = await withoutSysAdmin(['run', '--network', 'host', 'opaque', 'ls', '/d'], other);
  t.is(ran.code, 0, ran.stderr);
  t.is(ran.stdout, 'new\n', 'the lower /d/old stays hidden');
});

test('RUN --network=none in chroot isolation is an error at its line', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('iso-none', t);
  await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nRUN --network=none true\n');
  const res = await tsbuild(['build', '--isolation', 'chroot', work], { root });
  t.is(res.code, 1);
  t.regex(res.stderr, /Dockerfile:2: network 'none' needs a network namespace, which chroot isolation cannot create/);
});

test('--isolation and $TSBUILD_ISOLATION take auto, sandbox, rootless or chroot; anything else is a usage error naming where it came from', async (t) => {
  const root = await tempDir('iso-usage', t);
  const flag = await tsbuild(['build', '--isolation', 'none', '.'], { root });
  t.is(flag.code, 2);
  t.regex(flag.stderr, /--isolation "none": want auto, sandbox, rootless or chroot/);
  const env = await tsbuild(['run', 'busybox', 'true'], { root, env: { TSBUILD_ISOLATION: 'rootles' } });
  t.is(env.code, 125, 'run fails before the container as docker run does');
  t.regex(env.stderr, /\$TSBUILD_ISOLATION "rootles": want auto, sandbox, rootless or chroot/);
});

test('tsbuild info says which modes this machine allows, which one auto picks, and why', async (t) => {
  const root = await tempDir('iso-info', t);
  const full = await tsbuild(['info'], { root });
  t.is(full.code, 0, full.stderr);
  t.regex(full.stdout, /^Isolation modes:\n {2}sandbox {2}available\n {2}rootless not available: for non-root users; root has the sandbox\n {2}chroot {3}available\n {2}auto {5}picks sandbox \(the sandbox can start\)\n/);
  t.regex(full.stdout, /\n {2}CAP_SYS_CHROOT +yes\n/);
  const limited = await withoutSysAdmin(['info', '--format', 'json'], root);
  t.is(limited.code, 0, limited.stderr);
  const report = JSON.parse(limited.stdout) as { auto: string; modes: Record<string, { ok: boolean; detail: string }>; machine: Record<string, { ok: boolean; detail: string }> };
  t.is(report.auto, 'chroot');
  t.deepEqual(report.modes.sandbox, { ok: false, detail: 'cannot create namespaces: unshare(CLONE_NEWNS): EPERM' });
  t.is(report.machine.capSysAdmin!.ok, false);
  const bad = await tsbuild(['info', '--format', 'yaml'], { root });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--format "yaml": want text or json/);
});
