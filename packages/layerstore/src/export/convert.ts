import { LayerstoreError } from '../errors.js';
import type { Compression } from '../image/media-types.js';
import { layerAs } from '../layer/commit.js';
import type { Store, StoredImage } from '../store/store.js';

/** The same image with every layer blob in `compression` (a new manifest; same config and diff_ids). */
export async function convertLayers(store: Store, image: StoredImage, compression: Compression, level?: number): Promise<StoredImage> {
  const diffIds = image.config.rootfs.diff_ids;
  if (diffIds.length !== image.manifest.layers.length) {
    throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `image ${image.id}: ${image.manifest.layers.length} layers but ${diffIds.length} diff_ids`);
  }
  const layers = await Promise.all(image.manifest.layers.map((l, i) => layerAs(store, l, diffIds[i]!, compression, level)));
  if (layers.every((l, i) => l.digest === image.manifest.layers[i]!.digest)) return image;
  return store.putImage(image.config, layers, image.manifest.annotations);
}
