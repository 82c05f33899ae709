/**
 * WORKDIR and the USER that steps run as, on the recording executor (no sandbox): the
 * directory a WORKDIR makes and its owner, and the user, groups and HOME a RUN gets, both
 * resolved from the image's own /etc/passwd and /etc/group.
 */
import test from 'ava';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scratchContext, type ScratchContext } from '../testing/recorded-build.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\napp:x:1000:\nstaff:x:2000:app\n';
const ETC = 'FROM scratch\nCOPY passwd group /etc/\n';

async function setup(t: { teardown(fn: () => Promise<void>): void }): Promise<ScratchContext> {
  const scratch = await scratchContext(t, 'builder-workdir-');
  await writeFile(join(scratch.context, 'passwd'), PASSWD);
  await writeFile(join(scratch.context, 'group'), GROUP);
  return scratch;
}

test('WORKDIR makes its directory, and the missing parents, owned by the USER of the moment', async (t) => {
  const f = await setup(t);
  const { top, config } = await f.build(`${ETC}USER app\nWORKDIR /home/app/work\n`);
  const made = await stat(join(top, 'home', 'app', 'work'));
  t.true(made.isDirectory());
  t.is(made.mode & 0o7777, 0o755);
  t.deepEqual([made.uid, made.gid], [1000, 1000]);
  const parent = await stat(join(top, 'home', 'app'));
  t.deepEqual([parent.uid, parent.gid], [1000, 1000]);
  t.is(config.config?.WorkingDir, '/home/app/work');
  t.is(config.history?.at(-1)?.created_by, 'WORKDIR /home/app/work');
});

test('WORKDIR of a directory that exists adds an empty layer; a relative one is resolved against the last', async (t) => {
  const f = await setup(t);
  const { top, config } = await f.build(`${ETC}WORKDIR /etc\nWORKDIR sub\n`);
  t.deepEqual(await readdir(top), ['etc']);
  t.deepEqual(await readdir(join(top, 'etc')), ['sub']);
  t.is(config.config?.WorkingDir, '/etc/sub');
  const same = await f.build(`${ETC}WORKDIR /etc\n`);
  t.deepEqual(await readdir(same.top), []);
});

test('WORKDIR owns its directory by BuildKit\'s --chown rules: a number is uid and gid, an unknown name is root', async (t) => {
  const f = await setup(t);
  const numeric = await stat(join((await f.build(`${ETC}USER 4242\nWORKDIR /n\n`)).top, 'n'));
  const unknown = await stat(join((await f.build(`${ETC}USER nobody\nWORKDIR /u\n`)).top, 'u'));
  t.deepEqual([numeric.uid, numeric.gid], [4242, 4242]);
  t.deepEqual([unknown.uid, unknown.gid], [0, 0]);
});

test('WORKDIR over a file, or a USER name with no /etc/passwd to look it up in, is an error naming the line', async (t) => {
  const f = await setup(t);
  await t.throwsAsync(f.build(`${ETC}WORKDIR /etc/passwd\n`), { message: 'WORKDIR /etc/passwd: not a directory' });
  const err = await t.throwsAsync(f.build('FROM scratch\nUSER nobody\nWORKDIR /w\n'));
  t.regex(String(err), /Dockerfile:3: WORKDIR: unable to find user nobody: the image has no \/etc\/passwd/);
});

test('RUN runs as the USER from the image\'s passwd, with the groups and HOME BuildKit gives it', async (t) => {
  const f = await setup(t);
  const { requests } = await f.build(`${ETC}USER app\nRUN id\nUSER 4242\nRUN id\nUSER app:staff\nRUN id\n`);
  // BuildKit's RUN: only the groups /etc/group lists the user in (not its primary group),
  // and a uid without an entry runs with gid 0.
  t.deepEqual(requests.map((r) => r.process.user), [
    { uid: 1000, gid: 1000, groups: [2000] },
    { uid: 4242, gid: 0, groups: [] },
    { uid: 1000, gid: 2000, groups: [] },
  ]);
  t.deepEqual(requests.map((r) => r.process.env.find((e) => e.startsWith('HOME='))), ['HOME=/home/app', 'HOME=/', 'HOME=/home/app']);
});
