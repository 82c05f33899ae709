/**
 * The "victim" harness for extraction tests (go-archive `testBreakout`;
 * hostile layers): `T/dest` is the root, `T/victim/hello` (random bytes) and `T/SENTINEL`
 * sit beside it. A case passes when the layer either fails with a TarError naming the
 * entry, or succeeds inside the root; in both cases nothing outside `T/dest` changed
 * (victim, sentinel, lower layers: names, bytes, modes, owners and times).
 *
 * Each case runs in two modes: 'delete' (one directory, the lower layers applied into
 * it first) and 'overlay' (the lower layers are snapshots under `T/lower-*`, the layer
 * goes into the upper dir `T/dest` in overlay form, and the result is looked at through
 * a real overlayfs mount).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { LayerstoreError, TarError } from '../errors.js';
import { applyTar } from '../layer/apply.js';
import { RootFs } from '../layer/rootfs.js';
import { asDeviceForm, testForm } from './both-ways.js';
import { readTree, tempDir, withOverlay } from './fstree.js';
import { dir, entries, file, symlink, type Piece } from './tarbuild.js';

export type Mode = 'delete' | 'overlay';

export interface Harness {
  /** T, the directory holding dest, victim and SENTINEL (absolute). */
  base: string;
  dest: string;
  victim: string;
  mode: Mode;
  /** Where the result is seen: dest in delete mode, the overlay mount in overlay mode. */
  view: string;
  warnings: string[];
}

export interface BreakoutCase {
  id: string;
  title: string;
  /** A layer applied below the one under test (on top of BASE_LOWER). */
  lower?: Piece[];
  layer: Piece[] | ((h: Harness) => Piece[]);
  /** Host-side fixtures beside dest, made before the "nothing changed" snapshot. */
  setup?: (h: Harness) => Promise<void>;
  expect: 'ok' | 'reject' | 'either';
  /** Checks of the result when the layer applied. */
  check?: (t: ExecutionContext, h: Harness) => Promise<unknown>;
  /** Checks of the upper dir (overlay mode only). */
  checkUpper?: (t: ExecutionContext, h: Harness) => Promise<unknown>;
}

/** The lower snapshot every case starts from: the symlinks real images have. */
export const BASE_LOWER: Piece[] = [
  dir('usr'),
  dir('usr/lib'),
  symlink('lib', 'usr/lib'),
  dir('run'),
  dir('var'),
  symlink('var/run', '/run'),
  dir('opt'),
  file('opt/keep', 'keep'),
];

async function applyLayer(root: RootFs, pieces: Piece[]): Promise<void> {
  await applyTar(root, entries(pieces), { whiteouts: true });
}

export async function runBreakout(t: ExecutionContext, c: BreakoutCase, mode: Mode): Promise<void> {
  const base = await tempDir(t, 'tsbuild-victim-');
  const dest = join(base, 'dest');
  const victim = join(base, 'victim');
  await mkdir(dest);
  await mkdir(victim);
  await writeFile(join(victim, 'hello'), randomBytes(64));
  await chmod(join(victim, 'hello'), 0o640);
  await writeFile(join(base, 'SENTINEL'), 'sentinel');
  const h: Harness = { base, dest, victim, mode, view: dest, warnings: [] };
  await c.setup?.(h);

  let lowers: string[] = [];
  if (mode === 'delete') {
    const root = new RootFs({ upper: dest, whiteouts: 'delete' });
    await applyLayer(root, BASE_LOWER);
    if (c.lower) await applyLayer(root, c.lower);
  } else {
    const lowerBase = join(base, 'lower-base');
    await mkdir(lowerBase);
    await applyLayer(new RootFs({ upper: lowerBase, whiteouts: 'delete' }), BASE_LOWER);
    lowers = [lowerBase];
    if (c.lower) {
      const lowerCase = join(base, 'lower-case');
      await mkdir(lowerCase);
      await applyLayer(new RootFs({ upper: lowerCase, lowers, overlayForm: testForm() }), c.lower);
      lowers = [lowerCase, ...lowers];
    }
  }

  const outside = { skip: ['dest', 'work', 'merged'], mtimes: true, dirMtimes: true };
  const before = await readTree(base, outside);
  const layer = typeof c.layer === 'function' ? c.layer(h) : c.layer;
  const root = new RootFs({ upper: dest, lowers, whiteouts: mode, overlayForm: testForm() });
  let err: unknown;
  try {
    await applyTar(root, entries(layer), { whiteouts: true, onWarning: (m) => h.warnings.push(m) });
  } catch (e) {
    err = e;
  }
  t.deepEqual(await readTree(base, outside), before, 'nothing outside dest changed');

  if (err !== undefined) {
    if (c.expect === 'ok') throw err;
    t.true(err instanceof TarError, `a TarError, got ${String(err)}`);
    t.true(err instanceof LayerstoreError && typeof (err as TarError).entry === 'string', 'the error names the entry');
    return;
  }
  t.not(c.expect, 'reject', 'the layer should have been rejected');
  if (mode === 'overlay') {
    await c.checkUpper?.(t, h);
    if (c.check) {
      // overlayfs reads only 0:0 devices: an `xattr`-form run shows it converted copies (both-ways.ts).
      const shown = testForm().whiteout === 'device' ? { lowers, upper: dest } : { lowers: await Promise.all(lowers.map((l) => asDeviceForm(l, `${l}-device`))), upper: await asDeviceForm(dest, `${dest}-device`) };
      await withOverlay({ ...shown, work: join(base, 'work'), merged: join(base, 'merged') }, async (merged) => {
        h.view = merged;
        await c.check!(t, h);
      });
    }
  } else {
    await c.check?.(t, h);
  }
}
