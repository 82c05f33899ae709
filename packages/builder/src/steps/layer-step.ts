/**
 * A filesystem step: a fresh upper directory over the stage's snapshots, filled by the
 * step, diffed into a layer blob, then kept as the new layer's snapshot (no unpacking).
 */
import { chainIds, commitLayer, RootFs, type Store } from '@tsbuild/layerstore';
import { lowerDirs, type LayerRef, type StageState } from '../solve/state.js';

export interface LayerStepOptions {
  store: Store;
  sourceDateEpoch?: number;
  /** Build the layer independently of the stage's filesystem (COPY --link). */
  detached?: boolean;
}

export async function layerStep(state: StageState, opts: LayerStepOptions, fill: (root: RootFs) => Promise<void>): Promise<LayerRef> {
  const snap = await opts.store.snapshots.prepare();
  try {
    const root = new RootFs({ upper: snap.path, lowers: opts.detached ? [] : lowerDirs(state), whiteouts: 'overlay' });
    await fill(root);
    const layer = await commitLayer(opts.store, snap.path, opts.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: opts.sourceDateEpoch });
    const chain = chainIds([...state.config.rootfs.diff_ids, layer.diffId]).at(-1)!;
    const snapshot = await snap.commit(chain);
    return { descriptor: layer.descriptor, diffId: layer.diffId, snapshot };
  } catch (err) {
    await snap.abort();
    throw err;
  }
}
