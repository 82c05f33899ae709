/**
 * One image in the form an export or a push needs. Every path that writes a manifest
 * out of the store (OCI archive and layout, docker-archive, push) asks for its image
 * here, so media types are never mixed and one build gives one manifest per form:
 *
 * ```ts
 * const out = await imageAs(store, image, { format: 'oci', compression: 'gzip' });
 * // out.manifestDescriptor.digest is the manifest the archive, the layout, the
 * // registry and (when tagged) the store all hold; out.id === image.id.
 * ```
 *
 * Layer blobs are re-compressed only when `compression` differs from theirs (and the
 * result is remembered, see layer/commit.ts); media types follow `format` (default: the
 * image's own family). An image already in the asked form is returned as it is, with
 * its manifest bytes untouched, so a pulled image keeps its digest.
 */
import type { Digest } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { formatOf, manifestIn, mixedMediaTypes } from '../image/form.js';
import { layerCompression, type Compression, type ManifestFormat } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import { layerAs } from '../layer/commit.js';
import type { Store, StoredImage } from '../store/store.js';

export interface ImageForm {
  /** Media-type family of the manifest (default: the image's own). */
  format?: ManifestFormat;
  /** Compression of every layer blob (default: each layer as it is). */
  compression?: Compression;
  /** Compression level, for layers that get compressed. */
  level?: number;
}

export async function imageAs(store: Store, image: StoredImage, form: ImageForm = {}): Promise<StoredImage> {
  const format = form.format ?? formatOf(image);
  const { compression } = form;
  let layers: Descriptor[] = image.manifest.layers;
  if (compression !== undefined && layers.some((l) => layerCompression(l.mediaType) !== compression)) {
    const diffIds = image.config.rootfs.diff_ids;
    if (diffIds.length !== layers.length) {
      throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `image ${image.id}: ${layers.length} layers but ${diffIds.length} diff_ids`);
    }
    layers = await Promise.all(layers.map((l, i) => layerAs(store, l, diffIds[i] as Digest, compression, form.level)));
  }
  if (layers === image.manifest.layers && mixedMediaTypes(image.manifest, format) === undefined) return image;
  return store.putManifest(manifestIn({ ...image.manifest, layers }, format), image.config);
}

/** Refuse an image whose manifest mixes media-type families (a writer's last check). */
export function requireOneFamily(image: StoredImage, where: string): void {
  const bad = mixedMediaTypes(image.manifest, formatOf(image));
  if (bad !== undefined) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: manifest ${image.manifestDescriptor.digest} mixes media types (${bad}); convert it with imageAs first`);
}
