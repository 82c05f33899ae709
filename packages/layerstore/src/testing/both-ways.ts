/**
 * Apply `layers` (bottom first) twice: as overlay-form snapshots (each over the ones
 * below, as ensureSnapshots does) looked at through an overlayfs mount, and one after
 * the other into a single directory in delete mode. Returns both trees, which must agree.
 *
 * The snapshots are made in the whiteout form `form` (default: the test switch
 * TSBUILD_STORE_WHITEOUTS, else `device`). overlayfs reads only the `device` form, so
 * `xattr` snapshots are shown to it through copies whose marked files became 0:0 devices:
 * the kernel stays the judge of what the snapshots mean in both forms.
 */
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { applyTar } from '../layer/apply.js';
import { RootFs } from '../layer/rootfs.js';
import { DEVICE_FORM, isWhiteout, makeWhiteout, type OverlayForm, type WhiteoutForm } from '../layer/whiteout.js';
import { WHITEOUTS_ENV } from '../store/overlay-form.js';
import { readTree, run, tempDir, withOverlay } from './fstree.js';
import { entries, type Piece } from './tarbuild.js';

const apply = (root: RootFs, pieces: Piece[]) => applyTar(root, entries(pieces), { whiteouts: true });

/** The overlay form a suite runs in: TSBUILD_STORE_WHITEOUTS=xattr runs it in the `xattr` form. */
export function testForm(): OverlayForm {
  return process.env[WHITEOUTS_ENV] === 'xattr' ? { ...DEVICE_FORM, whiteout: 'xattr' } : DEVICE_FORM;
}

export async function bothWays(
  t: ExecutionContext,
  layers: Piece[][],
  opts: { mtimes?: boolean; form?: WhiteoutForm } = {},
): Promise<{ overlay: Record<string, unknown>; flat: Record<string, unknown>; snapshots: string[] }> {
  const form: OverlayForm = { ...DEVICE_FORM, whiteout: opts.form ?? testForm().whiteout };
  const base = await tempDir(t);
  const snapshots: string[] = [];
  for (const [i, layer] of layers.entries()) {
    const upper = join(base, `snap${i}`);
    await mkdir(upper);
    await apply(new RootFs({ upper, lowers: [...snapshots].reverse(), whiteouts: 'overlay', overlayForm: form }), layer);
    snapshots.push(upper);
  }
  const flatDir = join(base, 'flat');
  await mkdir(flatDir);
  const flatRoot = new RootFs({ upper: flatDir, whiteouts: 'delete' });
  for (const layer of layers) await apply(flatRoot, layer);
  const flat = await readTree(flatDir, opts);
  const shown = form.whiteout === 'device' ? snapshots : await Promise.all(snapshots.map((s) => asDeviceForm(s, `${s}-device`)));
  // overlayfs wants at least one lowerdir: the top snapshot is the upper, the rest below.
  const lowers = [...shown].reverse();
  const empty = join(base, 'empty');
  await mkdir(empty);
  const overlay = await withOverlay({ lowers: [...lowers.slice(1), empty], upper: lowers[0]!, work: join(base, 'work'), merged: join(base, 'merged') }, (m) => readTree(m, opts));
  delete overlay[''];
  delete flat[''];
  return { overlay, flat, snapshots };
}

/** A copy (owners, modes, times, xattrs kept) of an `xattr`-form snapshot in which every whiteout is a 0:0 device. */
export async function asDeviceForm(snapshot: string, copy: string): Promise<string> {
  await run('cp', ['-a', '--preserve=all', '--', snapshot, copy]);
  const convert = (dir: Buffer): void => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const host = Buffer.concat([dir, Buffer.from('/'), name]);
      const st = lstatSync(host);
      if (st.isDirectory()) convert(host);
      else if (isWhiteout(st, host, 'xattr') && !st.isCharacterDevice()) {
        rmSync(host);
        makeWhiteout(host, 'device');
      }
    }
  };
  convert(Buffer.from(copy));
  return copy;
}
