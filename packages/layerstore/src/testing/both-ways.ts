/**
 * Apply `layers` (bottom first) twice: as overlay-form snapshots (each over the ones
 * below, as ensureSnapshots does) looked at through an overlayfs mount, and one after
 * the other into a single directory in delete mode. Returns both trees, which must agree.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { applyTar } from '../layer/apply.js';
import { RootFs } from '../layer/rootfs.js';
import { readTree, tempDir, withOverlay } from './fstree.js';
import { entries, type Piece } from './tarbuild.js';

const apply = (root: RootFs, pieces: Piece[]) => applyTar(root, entries(pieces), { whiteouts: true });

export async function bothWays(t: ExecutionContext, layers: Piece[][], opts: { mtimes?: boolean } = {}): Promise<{ overlay: Record<string, unknown>; flat: Record<string, unknown>; snapshots: string[] }> {
  const base = await tempDir(t);
  const snapshots: string[] = [];
  for (const [i, layer] of layers.entries()) {
    const upper = join(base, `snap${i}`);
    await mkdir(upper);
    await apply(new RootFs({ upper, lowers: [...snapshots].reverse(), whiteouts: 'overlay' }), layer);
    snapshots.push(upper);
  }
  const flatDir = join(base, 'flat');
  await mkdir(flatDir);
  const flatRoot = new RootFs({ upper: flatDir, whiteouts: 'delete' });
  for (const layer of layers) await apply(flatRoot, layer);
  const flat = await readTree(flatDir, opts);
  // overlayfs wants at least one lowerdir: the top snapshot is the upper, the rest below.
  const lowers = [...snapshots].reverse();
  const empty = join(base, 'empty');
  await mkdir(empty);
  const overlay = await withOverlay({ lowers: [...lowers.slice(1), empty], upper: lowers[0]!, work: join(base, 'work'), merged: join(base, 'merged') }, (m) => readTree(m, opts));
  delete overlay[''];
  delete flat[''];
  return { overlay, flat, snapshots };
}
