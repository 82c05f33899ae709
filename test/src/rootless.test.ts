/**
 * Rootless tsbuild: a non-root user, made by the test (so CI, which runs as root, has
 * one), builds and runs images. Once with subordinate ids (the podman setup: newuidmap,
 * /etc/subuid) and once with none (only the user's own id is mapped). The busybox fixture
 * and the Debian base build, layers carry the owners the steps gave, `tsbuild run`
 * works, and afterwards the host has no mount and no process of the user. Then the bad
 * input: a missing newuidmap, too few subordinate ids, a store of another user.
 */
import test from 'ava';
import { readdir, readFile, stat, symlink, writeFile, chown } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './helpers/cli.js';
import { FIXTURES, prepareFixture, removeDir } from './helpers/fixtures.js';
import { debianMirror, debianStore, reachable } from './helpers/debian.js';
import { CLI } from './helpers/cli.js';
import { createUser, processesOf, spawnAsUser, userDir, type TestUser } from './helpers/rootless-user.js';

const asRoot = process.getuid?.() === 0 ? test.serial : test.serial.skip;
const DEBIAN_ROOTFS = '/var/tmp/tsbuild-test-debian-bookworm';

/** Numeric `uid/gid name` of every entry of every layer of an OCI archive. */
async function layerOwners(archive: string): Promise<Map<string, string>> {
  const dir = `${archive}.d`;
  await run('mkdir', ['-p', dir]);
  await run('tar', ['-xf', archive, '-C', dir]);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const blob = (d: string) => join(dir, 'blobs', d.replace(':', '/'));
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]!.digest), 'utf8')) as { layers: Array<{ digest: string }> };
  const out = new Map<string, string>();
  for (const l of manifest.layers) {
    const list = await run('tar', ['--numeric-owner', '-tvzf', blob(l.digest)]);
    for (const line of list.stdout.split('\n')) {
      const f = line.split(/\s+/);
      if (f.length >= 6) out.set(f.slice(5).join(' ').replace(/ -> .*$/, ''), f[1]!);
    }
  }
  await removeDir(dir);
  return out;
}

/** A context of the user's: a copy of fixtures/busybox (prepared) or the given files. */
async function context(user: TestUser, name: string, files: Record<string, string> = {}, fixture?: string): Promise<string> {
  const dir = await userDir(user, name);
  if (fixture) {
    const src = await prepareFixture(fixture);
    await run('cp', ['-a', `${src}/.`, dir]);
    await removeDir(src);
  }
  for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
  await run('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
  return dir;
}

/** The Debian base as a tar the user can read (made by root from the cached debootstrap), or undefined when there is none. */
async function debianContext(user: TestUser, dockerfile: string): Promise<string | undefined> {
  if (!(await stat(join(DEBIAN_ROOTFS, 'usr/bin/apt-get')).then(() => true, () => false))) {
    const mirror = await debianMirror();
    if (!(await reachable(mirror))) return undefined;
    await removeDir(join(await debianStore(mirror), '..')); // makes the cached rootfs
  }
  const dir = await context(user, 'debian', { Dockerfile: dockerfile });
  await run('tar', ['--numeric-owner', '--xattrs', '-C', DEBIAN_ROOTFS, '-cf', join(dir, 'rootfs.tar'), '.']);
  await chown(join(dir, 'rootfs.tar'), user.uid, user.gid);
  return dir;
}

/** Nothing of the user is left: no mount in the host's table naming its files, no process of its ids. */
async function nothingLeft(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, user: TestUser, subids: number): Promise<void> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(user.home) || l.includes(user.name));
  t.deepEqual(mounts, [], 'no mount of the user in the host\'s mountinfo');
  const start = user.subStart ?? -1;
  const pids = await processesOf((uid) => uid === user.uid || (uid >= start && uid < start + subids));
  t.deepEqual(pids, [], `no process of uid ${user.uid}${subids ? ' or of its subordinate ids' : ''}`);
}

const CHOWN_STEP = 'RUN touch /owned && chown 1000:1000 /owned && mkdir -p /o/a && touch /o/a/f\nRUN rm -rf /o && mkdir /o && touch /o/new\n';

asRoot('with subordinate ids: busybox and Debian build, a chown to 1000 in a RUN step is 1000 in the layer, run works, nothing is left', async (t) => {
  const user = await createUser(65536);
  t.teardown(() => user.remove());
  const bb = await context(user, 'busybox', {}, 'busybox');
  const built = await user.tsbuild(['build', '-q', '-t', 'busybox:latest', bb]);
  t.is(built.code, 0, built.stderr);
  t.true((await stat(join(user.store, 'index.json'))).uid === user.uid, 'the store is in $XDG_DATA_HOME/tsbuild, the user\'s');

  const ctx = await context(user, 'chown', { Dockerfile: `FROM busybox\n${CHOWN_STEP}` });
  const out = join(await userDir(user, 'out'), 'image.tar');
  const res = await user.tsbuild(['build', '--progress', 'plain', '-t', 'chowned', '-o', `type=oci,dest=${out}`, ctx]);
  t.is(res.code, 0, res.stderr);
  t.is(res.stderr.match(/isolation: rootless \(a user namespace with 65537 ids\)/g)?.length, 1, 'the build says once that it is rootless');
  const owners = await layerOwners(out);
  t.is(owners.get('owned'), '1000/1000', 'owned by 1000 in the layer, though on disk it is a subordinate id');
  t.is(owners.get('o/.wh..wh..opq'), '0/0', 'the replaced directory is opaque in the layer (user.overlay.opaque read back)');
  t.is(owners.get('bin/busybox'), '0/0', 'root in the step is root in the layer');
  // on disk, outside: the user's subordinate id for 1000
  const snapshots = await readdir(join(user.store, 'snapshots'));
  const onDisk = await Promise.all(snapshots.map((s) => stat(join(user.store, 'snapshots', s, 'owned')).then((st) => st.uid, () => undefined)));
  t.true(onDisk.includes(user.subStart! + 999), `on disk: ${onDisk.join(',')}`);

  const ran = await user.tsbuild(['run', 'chowned', 'sh', '-c', 'stat -c %u:%g /owned; id -u; ls /o']);
  t.is(ran.code, 0, ran.stderr);
  t.is(ran.stdout, '1000:1000\n0\nnew\n');
  const asApp = await user.tsbuild(['run', '-u', '1000', 'chowned', 'id', '-u']);
  t.is(asApp.stdout, '1000\n', asApp.stderr);
  const exit = await user.tsbuild(['run', 'chowned', 'sh', '-c', 'exit 7']);
  t.is(exit.code, 7, 'the exit status passes through the re-exec');

  const deb = await debianContext(user, 'FROM scratch\nADD rootfs.tar /\nRUN chown _apt /tmp && useradd -u 1234 someone && touch /home/f && chown someone /home/f\n');
  if (deb) {
    const debOut = join(await userDir(user, 'out'), 'debian.tar');
    const d = await user.tsbuild(['build', '-q', '-t', 'deb', '-o', `type=oci,dest=${debOut}`, deb]);
    t.is(d.code, 0, d.stderr);
    const dOwners = await layerOwners(debOut);
    t.is(dOwners.get('etc/shadow')?.split('/')[1], '42', 'the base layer keeps /etc/shadow in group shadow (42)');
    t.is(dOwners.get('home/f'), '1234/0', 'a user the step created owns its file');
    const r = await user.tsbuild(['run', 'deb', 'stat', '-c', '%U:%G', '/etc/shadow']);
    t.is(r.stdout, 'root:shadow\n', r.stderr);
  } else {
    t.log('no Debian base (no cached debootstrap and no mirror): the Debian part was skipped');
  }
  await nothingLeft(t, user, 65536);
});

asRoot('without subordinate ids: only the own id; other owners of base layers are recorded and kept, a chown in RUN fails as in podman', async (t) => {
  const user = await createUser(0);
  t.teardown(() => user.remove());
  const bb = await context(user, 'busybox', {}, 'busybox');
  t.is((await user.tsbuild(['build', '-q', '-t', 'busybox:latest', bb])).code, 0);
  const ran = await user.tsbuild(['run', 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
  t.is(ran.code, 0, ran.stderr);
  t.regex(ran.stdout, new RegExp(`^0\\n\\s+0\\s+${user.uid}\\s+1\\n$`));

  const fail = await user.tsbuild(['build', '-q', '-t', 'chowned', await context(user, 'chown', { Dockerfile: `FROM busybox\n${CHOWN_STEP}` })]);
  t.not(fail.code, 0);
  t.regex(fail.stderr, /chown.*Invalid argument/, 'uid 1000 does not exist without subordinate ids');
  const asApp = await user.tsbuild(['run', '-u', '1000', 'busybox', 'id']);
  t.is(asApp.code, 125);
  t.regex(asApp.stderr, /user id 1000 is not mapped in tsbuild's user namespace: tsbuild runs rootless without subordinate ids.*usermod --add-subuids/);

  // COPY --chown and base layers with other owners: recorded, and the layers keep them.
  const ctx = await context(user, 'copy', { Dockerfile: 'FROM busybox\nCOPY --chown=1000:1000 a /a\nRUN touch /a\n', a: 'a\n' });
  const out = join(await userDir(user, 'out'), 'copy.tar');
  const c = await user.tsbuild(['build', '-q', '-t', 'copied', '-o', `type=oci,dest=${out}`, ctx]);
  t.is(c.code, 0, c.stderr);
  const owners = await layerOwners(out);
  t.deepEqual([...owners].filter(([n]) => n === 'a').map(([, o]) => o), ['1000/1000'], 'COPY --chown keeps 1000; the RUN step\'s copy-up of /a keeps it too');

  const deb = await debianContext(user, 'FROM scratch\nADD rootfs.tar /\nRUN touch /etc/shadow /var/mail\n');
  if (deb) {
    const debOut = join(await userDir(user, 'out'), 'debian.tar');
    const d = await user.tsbuild(['build', '-q', '-t', 'deb', '-o', `type=oci,dest=${debOut}`, deb]);
    t.is(d.code, 0, d.stderr);
    const dOwners = await layerOwners(debOut);
    t.is(dOwners.get('etc/shadow'), '0/42', 'group shadow recorded when unpacking, kept through the RUN step\'s copy-up');
    t.is(dOwners.get('var/mail/'), '0/8', 'group mail likewise');
    t.is((await user.tsbuild(['run', 'deb', 'true'])).code, 0);
  } else {
    t.log('no Debian base: the Debian part was skipped');
  }
  await nothingLeft(t, user, 0);
});

asRoot('bad input: a missing newuidmap, too few subordinate ids, a store of another user', async (t) => {
  const user = await createUser(65536);
  t.teardown(() => user.remove());
  // A PATH with unshare and sh but without newuidmap and newgidmap.
  const bin = await userDir(user, 'bin');
  for (const tool of ['unshare', 'sh']) await symlink((await run('sh', ['-c', `command -v ${tool}`])).stdout.trim(), join(bin, tool));
  const noMap = await user.tsbuild(['images'], { PATH: bin });
  t.is(noMap.code, 1);
  t.regex(noMap.stderr, /newuidmap is not installed, and \/etc\/subuid gives \w+ subordinate ids that only it can map: install Debian's uidmap \(apt-get install uidmap\)/);

  const few = await createUser(1000);
  t.teardown(() => few.remove());
  const r = await few.tsbuild(['images']);
  t.is(r.code, 1);
  t.regex(r.stderr, new RegExp(`${few.name} has 1000 subordinate uids in /etc/subuid; rootless tsbuild needs at least 65536 \\(as root: usermod --add-subuids 100000-165535 ${few.name}`));

  const foreign = await user.tsbuild(['images'], { TSBUILD_ROOT: FIXTURES });
  t.is(foreign.code, 1);
  t.regex(foreign.stderr, new RegExp(`the store ${FIXTURES} belongs to root \\(uid 0\\), not to you \\(uid ${user.uid}\\).*set TSBUILD_ROOT`));
  t.is((await user.tsbuild(['--version'])).code, 0, '--version needs no user namespace');
  const info = await user.tsbuild(['info']);
  t.regex(info.stdout, /rootless available\n/);
  t.regex(info.stdout, /auto {5}picks rootless \(not root: a user namespace with your subordinate ids \(newuidmap\)\)/);
  // /proc partly covered (as in a container with masked paths): the kernel refuses proc in a user namespace.
  t.is((await user.tsbuild(['build', '-q', '-t', 'busybox:latest', await context(user, 'busybox', {}, 'busybox')])).code, 0);
  const env = `PATH=/usr/bin:/bin HOME=${user.home} XDG_DATA_HOME=${join(user.home, '.local/share')}`;
  const covered = await run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c',
    `mount --bind /dev/null /proc/uptime && exec /usr/bin/setpriv --reuid ${user.uid} --regid ${user.gid} --init-groups -- env -i ${env} ${process.execPath} ${CLI} run busybox true`], { allowFail: true, cwd: user.home });
  t.is(covered.code, 125);
  t.regex(covered.stderr, /cannot mount \/proc in the user namespace: the kernel allows that only where this machine's \/proc is fully visible/);
  const chroot = await user.tsbuild(['run', '--isolation', 'chroot', 'busybox', 'true']);
  t.regex(chroot.stderr, /chroot isolation needs root \(running as uid \d+\)/, 'a non-root user asking for chroot is not re-executed');
});

asRoot('signals pass through the re-exec: SIGTERM and SIGINT to tsbuild end the container inside, and nothing of the user is left', async (t) => {
  const user = await createUser(65536);
  t.teardown(() => user.remove());
  t.is((await user.tsbuild(['build', '-q', '-t', 'busybox:latest', await context(user, 'busybox', {}, 'busybox')])).code, 0);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    const marker = `${sig === 'SIGTERM' ? 3141 : 2718}`;
    const child = spawnAsUser(user, [process.execPath, CLI, 'run', 'busybox', 'sleep', marker]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    // Wait for the container's command itself (an observable state, not a delay).
    const sleeping = async () => {
      for (const pid of await readdir('/proc')) {
        if ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) === `sleep\0${marker}\0`) return true;
      }
      return false;
    };
    let seen = false;
    const started = Date.now();
    while (!(seen = await sleeping()) && Date.now() - started < 60_000) await new Promise((r) => setImmediate(r));
    t.true(seen, `the container's sleep started: ${stderr}`);
    child.kill(sig);
    const end = await closed;
    t.deepEqual(end, { code: 125, signal: null }, `${sig}: ${stderr}`);
    t.regex(stderr, /ERROR: run cancelled\n$/, 'tsbuild inside got the signal and cancelled, as tsbuild run as root does');
    t.false(await sleeping(), `${sig}: the container's command is gone`);
  }
  await nothingLeft(t, user, 65536);
});

asRoot('where overlayfs cannot be mounted in the user namespace (forced here), a copied root gives the same layers', async (t) => {
  const user = await createUser(65536);
  t.teardown(() => user.remove());
  const env = { TSBUILD_SANDBOX_FALLBACKS: 'userns_overlay' };
  t.is((await user.tsbuild(['build', '-q', '-t', 'busybox:latest', await context(user, 'busybox', {}, 'busybox')], env)).code, 0);
  const ctx = await context(user, 'chown', { Dockerfile: `FROM busybox\n${CHOWN_STEP}RUN rm /bin/vi\n` });
  const out = join(await userDir(user, 'out'), 'image.tar');
  const res = await user.tsbuild(['build', '-q', '-t', 'chowned', '-o', `type=oci,dest=${out}`, ctx], env);
  t.is(res.code, 0, res.stderr);
  const owners = await layerOwners(out);
  t.is(owners.get('owned'), '1000/1000');
  t.is(owners.get('o/.wh..wh..opq'), '0/0', 'the replaced directory is opaque');
  t.is(owners.get('o/new'), '0/0');
  t.is(owners.get('bin/.wh.vi'), '0/0', 'a removed file is a whiteout');
  const rootFstype = `awk '$5 == "/" { for (i = 6; i <= NF; i++) if ($i == "-") print $(i + 1) }' /proc/self/mountinfo`;
  const ran = await user.tsbuild(['run', 'chowned', 'sh', '-c', `ls /o; ${rootFstype}`], env);
  t.is(ran.code, 0, ran.stderr);
  const [listing, fstype] = ran.stdout.split('\n');
  t.is(listing, 'new');
  t.not(fstype, 'overlay', 'the root is the copy, not an overlay');
  t.truthy(fstype, 'the root is in the mount table');
  const usual = await user.tsbuild(['run', 'chowned', 'sh', '-c', rootFstype]);
  t.is(usual.stdout, 'overlay\n', 'without the switch the root is an overlay');
  await nothingLeft(t, user, 65536);
});
