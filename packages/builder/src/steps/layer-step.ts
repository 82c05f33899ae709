/**
 * Every step that makes a layer (RUN, COPY, ADD, WORKDIR) goes through `layerStep`: a
 * fresh upper directory over the stage's snapshots, filled by the step (files copied in,
 * or a command run in the sandbox over it), diffed into a layer blob, then kept as the
 * new layer's snapshot (no unpacking). A step that fails leaves no snapshot behind.
 */
import { chainIds, commitLayer, RootFs, type Store } from '@tsbuild/layerstore';
import { lowerDirs, type LayerRef, type StageState } from '../solve/state.js';

export interface LayerStepOptions {
  store: Store;
  sourceDateEpoch?: number;
  /** Build the layer independently of the stage's filesystem (COPY --link). */
  detached?: boolean;
}

/** What a step fills: the merged view, and the directories an overlay mount of it takes. */
export interface LayerDirs {
  /** The fresh upper directory (the new layer, in overlay form). */
  upper: string;
  /** The snapshots below it, top first (none for a detached step). */
  lowers: string[];
}

export async function layerStep(state: StageState, opts: LayerStepOptions, fill: (root: RootFs, dirs: LayerDirs) => Promise<void>): Promise<LayerRef> {
  const snap = await opts.store.snapshots.prepare();
  try {
    const lowers = opts.detached ? [] : lowerDirs(state);
    const root = new RootFs({ upper: snap.path, lowers, whiteouts: 'overlay', overlayForm: opts.store.overlayForm });
    await fill(root, { upper: snap.path, lowers });
    const layer = await commitLayer(opts.store, snap.path, opts.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: opts.sourceDateEpoch });
    const chain = chainIds([...state.config.rootfs.diff_ids, layer.diffId]).at(-1)!;
    const snapshot = await snap.commit(chain);
    return { descriptor: layer.descriptor, diffId: layer.diffId, snapshot };
  } catch (err) {
    await snap.abort();
    throw err;
  }
}
