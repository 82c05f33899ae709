/**
 * The two whiteout forms of a store (whiteout.ts): the same layers applied, looked at
 * and diffed in the `device` and the `xattr` form give the same view and the same layer
 * bytes, and the kernel (through device copies, testing/both-ways.ts) agrees with both.
 */
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import anyTest from 'ava';
import { getXattr, setXattr } from '../sys/libc.js';
import { writeTar } from '../tar/index.js';
import { collect } from '../tar/test-helpers.js';
import { bothWays } from '../testing/both-ways.js';
import { tempDir } from '../testing/fstree.js';
import { dir, entries, file, opaque, symlink, whiteout, type Piece } from '../testing/tarbuild.js';
import { applyTar } from './apply.js';
import { diffEntries } from './diff.js';
import { RootFs } from './rootfs.js';
import { DEVICE_FORM, isWhiteout, makeWhiteout, mayBeWhiteout, WHITEOUT_XATTR, type OverlayForm, type WhiteoutForm } from './whiteout.js';

const test = process.getuid?.() === 0 ? anyTest : anyTest.skip;
const b = (s: string) => Buffer.from(s, 'latin1');
const FORMS: WhiteoutForm[] = ['device', 'xattr'];
const formOf = (whiteout: WhiteoutForm): OverlayForm => ({ ...DEVICE_FORM, whiteout });

const LAYERS: Piece[][] = [
  [dir('etc'), file('etc/passwd', 'root'), file('etc/gone', 'g'), dir('opq'), file('opq/old', 'o'), dir('tree'), file('tree/leaf', 'l'), file('empty')],
  // deletions of a file, a directory and an empty file; an opaque directory with a new child
  [whiteout('etc/gone'), whiteout('tree'), whiteout('empty'), opaque('opq'), file('opq/new', 'n'), file('etc/added', 'a')],
  // over the deletions: a name made again, as a directory over a deleted file
  [dir('etc/gone'), file('etc/gone/inside', 'i'), symlink('link', 'etc')],
];

test('xattr form: a whiteout is an empty file with the marker; a 0:0 device is one in both forms', async (t) => {
  const d = await tempDir(t);
  const w = join(d, 'w');
  makeWhiteout(b(w), 'xattr');
  const st = lstatSync(w);
  t.true(st.isFile());
  t.is(st.size, 0);
  t.deepEqual(getXattr(b(w), WHITEOUT_XATTR), b('y'));
  t.true(isWhiteout(st, b(w), 'xattr'));
  t.false(isWhiteout(st, b(w), 'device'), 'the device form does not read markers');
  t.false(isWhiteout(st), 'nor does a caller that gives no path');
  writeFileSync(join(d, 'plain'), '');
  t.false(isWhiteout(lstatSync(join(d, 'plain')), b(join(d, 'plain')), 'xattr'), 'an empty file without the marker');
  writeFileSync(join(d, 'full'), 'x');
  setXattr(b(join(d, 'full')), WHITEOUT_XATTR, b('y'));
  t.false(isWhiteout(lstatSync(join(d, 'full')), b(join(d, 'full')), 'xattr'), 'a file with content is never one');
  makeWhiteout(b(join(d, 'dev')), 'device');
  for (const form of FORMS) t.true(isWhiteout(lstatSync(join(d, 'dev')), b(join(d, 'dev')), form), form);
  const kinds = new Map(readdirSync(d, { withFileTypes: true, encoding: 'buffer' }).map((e) => [e.name.toString(), e]));
  t.false(mayBeWhiteout(kinds.get('w')!, 'device'));
  t.true(mayBeWhiteout(kinds.get('w')!, 'xattr'));
  t.true(mayBeWhiteout(kinds.get('dev')!, 'device'));
});

for (const form of FORMS) {
  test(`${form} form: snapshots mean what overlayfs and delete mode say (whiteouts, opaque dirs)`, async (t) => {
    const { overlay, flat, snapshots } = await bothWays(t, LAYERS, { mtimes: true, form });
    t.deepEqual(overlay, flat);
    t.deepEqual(Object.keys(flat).sort(), ['etc', 'etc/added', 'etc/gone', 'etc/gone/inside', 'etc/passwd', 'link', 'opq', 'opq/new']);
    const devices = (dirPath: string): number =>
      readdirSync(dirPath, { withFileTypes: true }).reduce((n, e) => n + (e.isCharacterDevice() ? 1 : 0) + (e.isDirectory() ? devices(join(dirPath, e.name)) : 0), 0);
    t.is(devices(snapshots[1]!) > 0, form === 'device', 'whiteouts made in the store form only');
  });
}

/** The snapshots of LAYERS in `form`, under `base`. */
async function snapshotsIn(base: string, form: WhiteoutForm): Promise<string[]> {
  const snaps: string[] = [];
  for (const [i, layer] of LAYERS.entries()) {
    const upper = join(base, `${form}-${i}`);
    await mkdir(upper);
    await applyTar(new RootFs({ upper, lowers: [...snaps].reverse(), overlayForm: formOf(form) }), entries(layer), { whiteouts: true });
    snaps.push(upper);
  }
  return snaps;
}

/** Every name the merged view shows, walked through RootFs (overlay-view.ts), with its type. */
async function viewOf(root: RootFs, at: Buffer[] = [], out: Record<string, string> = {}): Promise<Record<string, string>> {
  for (const name of await root.readdir(at)) {
    const cs = [...at, name];
    const e = await root.lookup(cs);
    const key = cs.map((c) => c.toString('latin1')).join('/');
    out[key] = e === undefined ? 'missing' : e.stat.isDirectory() ? 'dir' : e.stat.isSymbolicLink() ? 'symlink' : e.stat.isFile() ? 'file' : 'other';
    if (e?.stat.isDirectory()) await viewOf(root, cs, out);
  }
  return out;
}

test('the overlay view and the diff give the same in both forms', async (t) => {
  const base = await tempDir(t);
  const views: Record<string, unknown>[] = [];
  const layers: Buffer[][] = [];
  for (const form of FORMS) {
    const snaps = await snapshotsIn(base, form);
    const root = new RootFs({ upper: join(base, `${form}-up`), lowers: [...snaps].reverse(), overlayForm: formOf(form) });
    mkdirSync(join(base, `${form}-up`));
    views.push(await viewOf(root));
    t.is(await root.lookup([b('tree')]), undefined, `${form}: a deleted directory is not looked up`);
    t.is(await root.lookup([b('empty')]), undefined, `${form}: nor a deleted empty file`);
    // the diff of each snapshot over the ones below
    layers.push(await Promise.all(snaps.map((s) => collect(writeTar(diffEntries(s, { sourceDateEpoch: 1000, overlayForm: formOf(form) }))))));
  }
  t.deepEqual(views[0], { etc: 'dir', 'etc/added': 'file', 'etc/gone': 'dir', 'etc/gone/inside': 'file', 'etc/passwd': 'file', link: 'symlink', opq: 'dir', 'opq/new': 'file' });
  t.deepEqual(views[1], views[0]);
  t.deepEqual(layers[1], layers[0], 'the same layer bytes from both forms');
  const names = (tar: Buffer) => [...tar.toString('latin1').matchAll(/(?:^|\0)((?:[a-z]+\/)*\.wh\.[.a-z]+)/g)].map((m) => m[1]);
  t.deepEqual(names(layers[1]![1]!).sort(), ['.wh.empty', '.wh.tree', 'etc/.wh.gone', 'opq/.wh..wh..opq']);
});

test('the marker never comes from a layer: an empty file carrying it stays a file, the attribute dropped', async (t) => {
  const base = await tempDir(t);
  const lower = join(base, 'lower');
  const upper = join(base, 'upper');
  await mkdir(lower);
  await mkdir(upper);
  await applyTar(new RootFs({ upper: lower }), entries([file('victim', 'v')]), { whiteouts: true });
  const warnings: string[] = [];
  const root = new RootFs({ upper, lowers: [lower], overlayForm: formOf('xattr') });
  await applyTar(root, entries([file('victim', '', { xattrs: { [WHITEOUT_XATTR]: 'y' } })]), { whiteouts: true, onWarning: (m) => warnings.push(m) });
  t.is(getXattr(b(join(upper, 'victim')), WHITEOUT_XATTR), undefined);
  t.true((await root.lookup([b('victim')]))?.stat.isFile());
  t.deepEqual(warnings, [`victim: ignoring extended attribute ${WHITEOUT_XATTR}`]);
  // and the diff never writes it into a layer
  setXattr(b(join(upper, 'victim')), 'user.kept', b('k'));
  const [h] = [...(await collectHeaders(upper))];
  t.deepEqual([...(h?.xattrs?.keys() ?? [])], ['user.kept']);
});

async function collectHeaders(upper: string) {
  const out = [];
  for await (const e of diffEntries(upper, { overlayForm: formOf('xattr') })) out.push(e.header);
  return out;
}
