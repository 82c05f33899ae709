/** Export an image as a plain directory tree: every layer applied in order, whiteouts deleting. */
import { mkdir } from 'node:fs/promises';
import { layerAsStream } from './layer-stream.js';
import { applyTar } from '../layer/apply.js';
import { RootFs } from '../layer/rootfs.js';
import type { Store, StoredImage } from '../store/store.js';
import { readTar } from '../tar/index.js';

export async function writeRootfs(store: Store, image: StoredImage, dest: string, opts: { onWarning?: (m: string) => void } = {}): Promise<void> {
  await mkdir(dest, { recursive: true });
  const root = new RootFs({ upper: dest, whiteouts: 'delete' });
  const diffIds = image.config.rootfs.diff_ids;
  for (let i = 0; i < image.manifest.layers.length; i++) {
    const stream = await layerAsStream(store, image.manifest.layers[i]!, diffIds[i]!);
    await applyTar(root, readTar(stream), { whiteouts: true, ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
  }
}
