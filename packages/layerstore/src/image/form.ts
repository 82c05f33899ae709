/**
 * The form of an image manifest: which media-type family it uses, and (with the layer
 * blobs, see export/image-as.ts) how its layers are compressed. Moving a manifest to
 * another family changes descriptors' media types only: digests and sizes stay, so the
 * same blobs serve both, and the config (the image ID) is unchanged.
 */
import { LayerstoreError } from '../errors.js';
import { configMediaType, layerMediaType, layerType, manifestFormatOf, manifestMediaType, type ManifestFormat } from './media-types.js';
import type { Descriptor, Manifest } from './types.js';

/** The family a manifest claims (by its own mediaType, else its descriptor's). */
export function formatOf(image: { manifest: Manifest; manifestDescriptor: Descriptor }): ManifestFormat {
  return manifestFormatOf(image.manifest.mediaType ?? image.manifestDescriptor.mediaType);
}

/** Why `manifest` is not purely of `format` (the first descriptor that is not), or undefined. */
export function mixedMediaTypes(manifest: Manifest, format: ManifestFormat = manifestFormatOf(manifest.mediaType)): string | undefined {
  if ((manifest.mediaType ?? manifestMediaType('oci')) !== manifestMediaType(format)) return `manifest media type ${manifest.mediaType}`;
  if (manifest.config.mediaType !== configMediaType(format)) return `config media type ${manifest.config.mediaType}`;
  for (const [i, l] of manifest.layers.entries()) {
    if (layerType(l.mediaType)?.format !== format) return `layer ${i + 1} media type ${l.mediaType}`;
  }
  if (format === 'docker' && (manifest.annotations !== undefined || manifest.layers.some((l) => l.annotations !== undefined))) return 'annotations, which Docker manifests do not have';
  return undefined;
}

/**
 * `manifest` with every media type of `format`. Docker schema 2 has no annotations (they
 * are dropped) and no zstd layer type (an error: such layers need OCI media types).
 */
export function manifestIn(manifest: Manifest, format: ManifestFormat): Manifest {
  const layers = manifest.layers.map((l, i): Descriptor => {
    const t = layerType(l.mediaType);
    if (t === undefined) throw new LayerstoreError('TSBUILD_UNSUPPORTED', `layer ${i + 1} (${l.digest}) has media type ${l.mediaType}, which is not an image layer type`);
    const mediaType = layerMediaType(format, t.compression, t.foreign);
    if (mediaType === undefined || (format === 'docker' && t.compression === 'zstd')) {
      throw new LayerstoreError('TSBUILD_UNSUPPORTED', `layer ${i + 1} (${l.digest}) is ${t.compression}-compressed${t.foreign ? ' and foreign' : ''}: Docker manifests have no such layer type; use OCI media types`);
    }
    const { annotations, ...rest } = l;
    return { ...rest, mediaType, ...(format === 'oci' && annotations ? { annotations } : {}) };
  });
  const { annotations, mediaType: _m, config, layers: _l, ...rest } = manifest;
  return {
    ...rest,
    schemaVersion: 2,
    mediaType: manifestMediaType(format),
    config: format === 'oci' ? { ...config, mediaType: configMediaType(format) } : { mediaType: configMediaType(format), digest: config.digest, size: config.size },
    layers,
    ...(format === 'oci' && annotations ? { annotations } : {}),
  };
}
