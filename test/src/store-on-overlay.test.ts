/**
 * A store on overlayfs, as one on a container's own root filesystem is (kaniko's case: no
 * volume). overlayfs refuses the 0:0 devices that record deletions, so such a store records
 * them as marked empty files (layerstore's `xattr` whiteout form); layers with deletions
 * must unpack there, RUN steps that delete must build there, and the images must be the
 * ones a store on an ordinary filesystem gives. Needs root (mount).
 */
import anyTest from 'ava';
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Store } from '@tsbuild/layerstore';
import { tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { tempDir } from './helpers/fixtures.js';

const run = promisify(execFile);
const test = process.getuid?.() === 0 ? anyTest : anyTest.skip;
const EPOCH = ['--build-arg', 'SOURCE_DATE_EPOCH=1000000000'];

const DELETIONS = `FROM busybox
RUN mkdir -p /made/sub /data/old && echo made > /made/file && ln -s file /made/link && echo old > /data/old/x
RUN rm /made/link && rm -rf /data && mkdir /data && echo new > /data/new
`;
const ON_TOP = `FROM deletions:test
RUN ls -A /data /made > /listing && rm /made/file
`;

/** Every path under `dir` that is a character device, and every empty file (the `xattr` form's whiteouts are). */
function whiteouts(dir: string): { devices: string[]; empty: string[] } {
  const out = { devices: [] as string[], empty: [] as string[] };
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isCharacterDevice()) out.devices.push(p);
      else if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size === 0) out.empty.push(p);
    }
  };
  walk(dir);
  return out;
}

test('a store on overlayfs unpacks layers with deletions and builds RUN steps that delete: the images a store on an ordinary filesystem gives', async (t) => {
  const host = await busyboxStore(t);
  const work = await tempDir('overlay-store', t);
  for (const d of ['deletions', 'on-top', 'lower', 'upper', 'ovl-work', 'merged']) await mkdir(join(work, d));
  await writeFile(join(work, 'deletions', 'Dockerfile'), DELETIONS);
  await writeFile(join(work, 'on-top', 'Dockerfile'), ON_TOP);

  // On an ordinary filesystem, in the sandbox.
  const ids: Record<string, string> = {};
  for (const [tag, ctx] of [['deletions:test', 'deletions'], ['on-top:test', 'on-top']] as const) {
    const res = await tsbuild(['build', '-q', ...EPOCH, '-t', tag, join(work, ctx)], { root: host });
    t.is(res.code, 0, res.stderr);
    ids[tag] = res.stdout.trim();
  }
  for (const tag of ['busybox:latest', 'deletions:test']) {
    const saved = await tsbuild(['save', tag, '-o', join(work, `${tag.split(':')[0]}.tar`)], { root: host });
    t.is(saved.code, 0, saved.stderr);
  }

  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${work}/lower,upperdir=${work}/upper,workdir=${work}/ovl-work`, join(work, 'merged')]);
  t.teardown(() => run('umount', ['-l', join(work, 'merged')]).then(() => undefined, () => undefined));
  const root = join(work, 'merged', 'var/lib/tsbuild');
  for (const tar of ['busybox', 'deletions']) {
    const loaded = await tsbuild(['load', '-i', join(work, `${tar}.tar`)], { root });
    t.is(loaded.code, 0, loaded.stderr);
  }
  // FROM an image whose layers delete (a whiteout and an opaque directory), and RUN steps that delete.
  const onTop = await tsbuild(['build', '-q', '--isolation', 'chroot', ...EPOCH, '-t', 'on-top:overlay', join(work, 'on-top')], { root });
  t.is(onTop.code, 0, onTop.stderr);
  t.is(onTop.stdout.trim(), ids['on-top:test'], 'the image a store on an ordinary filesystem gives');
  const rebuilt = await tsbuild(['build', '-q', '--isolation', 'chroot', ...EPOCH, '-t', 'deletions:overlay', join(work, 'deletions')], { root });
  t.is(rebuilt.code, 0, rebuilt.stderr);
  t.is(rebuilt.stdout.trim(), ids['deletions:test']);

  const ran = await tsbuild(['run', '--isolation', 'chroot', '--network', 'host', 'on-top:overlay', 'sh', '-c', 'cat /listing; ls -A /made /data'], { root });
  t.is(ran.code, 0, ran.stderr);
  t.is(ran.stdout, '/data:\nnew\n\n/made:\nfile\nsub\n/data:\nnew\n\n/made:\nsub\n');

  const store = await Store.open(root);
  t.deepEqual(store.overlayForm.whiteout, 'xattr', 'the store found that 0:0 devices cannot be made there');
  await store.close();
  const found = whiteouts(join(root, 'snapshots'));
  t.deepEqual(found.devices, [], 'no 0:0 devices (overlayfs refuses them)');
  t.true(found.empty.some((p) => p.endsWith('/made/link')) && found.empty.some((p) => p.endsWith('/made/file')), found.empty.join('\n'));
});
