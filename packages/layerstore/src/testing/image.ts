/** Images for store and export tests: layers from tarbuild pieces, put into a Store. */
import { MediaType } from '../image/media-types.js';
import type { Descriptor, ImageConfig } from '../image/types.js';
import type { Store, StoredImage } from '../store/store.js';
import { tarBytes, type Piece } from './tarbuild.js';

export function config(diffIds: ImageConfig['rootfs']['diff_ids'], extra: Partial<ImageConfig> = {}): ImageConfig {
  return { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds }, ...extra };
}

/** Store each layer uncompressed (digest = diff_id) and write config and manifest. */
export async function putLayers(store: Store, layers: Piece[][], extra: Partial<ImageConfig> = {}): Promise<StoredImage> {
  const descs: Descriptor[] = [];
  for (const pieces of layers) {
    const { digest, size } = await store.blobs.writeBytes(tarBytes(pieces));
    descs.push({ mediaType: MediaType.ociLayer, digest, size });
  }
  return store.putImage(config(descs.map((d) => d.digest), extra), descs);
}
