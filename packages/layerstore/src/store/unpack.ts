/**
 * Snapshots for an image's layers: reuse what exists, unpack what is missing. Each
 * layer is applied over the snapshots of the layers below it (so their symlinks are
 * followed inside the root) into a prepared snapshot, and committed only after the
 * layer stream matched its diff_id. A layer that fails leaves nothing behind.
 */
import type { Digest } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import type { Descriptor } from '../image/types.js';
import { applyTar } from '../layer/apply.js';
import { countingContent, recordContentSize } from '../layer/content-size.js';
import { RootFs } from '../layer/rootfs.js';
import { layerAsStream } from '../export/layer-stream.js';
import { readTar } from '../tar/index.js';
import { chainIds } from './snapshots.js';
import type { Store } from './store.js';

export interface UnpackOptions {
  onWarning?: (message: string) => void;
  /** Called before a missing layer is unpacked. */
  onUnpack?: (layer: Descriptor, index: number) => void;
}

/** Snapshot directories of every layer, bottom first. */
export async function ensureSnapshots(store: Store, layers: readonly Descriptor[], diffIds: readonly Digest[], opts: UnpackOptions = {}): Promise<string[]> {
  if (layers.length !== diffIds.length) {
    throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `image has ${layers.length} layers but ${diffIds.length} diff_ids`);
  }
  const chains = chainIds(diffIds);
  const out: string[] = [];
  for (let i = 0; i < layers.length; i++) {
    const chain = chains[i]!;
    if (await store.snapshots.has(chain)) {
      out.push(store.snapshots.path(chain));
      continue;
    }
    opts.onUnpack?.(layers[i]!, i);
    const snap = await store.snapshots.prepare();
    const content = { size: 0 };
    try {
      const root = new RootFs({ upper: snap.path, lowers: [...out].reverse(), whiteouts: 'overlay', overlayForm: store.overlayForm });
      const stream = await layerAsStream(store, layers[i]!, diffIds[i]!);
      await applyTar(root, countingContent(readTar(stream), content), { whiteouts: true, ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
      out.push(await snap.commit(chain));
    } catch (err) {
      await snap.abort();
      throw err;
    }
    // Read whole and verified: what `images` shows for the layer, without reading it again.
    await recordContentSize(store, layers[i]!.digest, diffIds[i]!, content.size);
  }
  return out;
}
