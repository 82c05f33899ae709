/**
 * Media types, in two families that never mix: an OCI manifest carries only OCI config
 * and layer types, a Docker schema 2 manifest only Docker ones (umoci, skopeo's v2s2
 * conversion and buildah refuse a mix). `form.ts` moves a manifest between the families.
 */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** Not in Docker's spec; containerd and BuildKit know it. */
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  dockerLayerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export type Compression = 'none' | 'gzip' | 'zstd';

/** Which family of media types a manifest uses: OCI image-spec or Docker schema 2. */
export type ManifestFormat = 'oci' | 'docker';

interface LayerType {
  format: ManifestFormat;
  compression: Compression;
  /** Foreign (Docker) / non-distributable (OCI): the blob may live only at its `urls`. */
  foreign: boolean;
}

const LAYER_TYPES: Record<string, LayerType> = {
  [MediaType.ociLayer]: { format: 'oci', compression: 'none', foreign: false },
  [MediaType.ociLayerGzip]: { format: 'oci', compression: 'gzip', foreign: false },
  [MediaType.ociLayerZstd]: { format: 'oci', compression: 'zstd', foreign: false },
  [MediaType.ociLayerNondistributable]: { format: 'oci', compression: 'none', foreign: true },
  [MediaType.ociLayerNondistributableGzip]: { format: 'oci', compression: 'gzip', foreign: true },
  [MediaType.ociLayerNondistributableZstd]: { format: 'oci', compression: 'zstd', foreign: true },
  [MediaType.dockerLayer]: { format: 'docker', compression: 'none', foreign: false },
  [MediaType.dockerLayerGzip]: { format: 'docker', compression: 'gzip', foreign: false },
  [MediaType.dockerLayerZstd]: { format: 'docker', compression: 'zstd', foreign: false },
  [MediaType.dockerLayerForeign]: { format: 'docker', compression: 'gzip', foreign: true },
};

/** What a layer media type says, or undefined if it is not a layer type we know. */
export function layerType(mediaType: string): LayerType | undefined {
  return Object.hasOwn(LAYER_TYPES, mediaType) ? LAYER_TYPES[mediaType] : undefined;
}

/** How a layer blob of this media type is compressed, or undefined if it is not a layer type we know. */
export function layerCompression(mediaType: string): Compression | undefined {
  return layerType(mediaType)?.compression;
}

/**
 * The layer media type of `format` for a blob compressed with `compression`, or
 * undefined where the family has none (a foreign Docker layer is always gzip).
 */
export function layerMediaType(format: ManifestFormat, compression: Compression, foreign = false): string | undefined {
  for (const [mediaType, t] of Object.entries(LAYER_TYPES)) {
    if (t.format === format && t.compression === compression && t.foreign === foreign) return mediaType;
  }
  return undefined;
}

export function ociLayerMediaType(c: Compression): string {
  return layerMediaType('oci', c)!;
}

export function manifestMediaType(format: ManifestFormat): string {
  return format === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest;
}

export function configMediaType(format: ManifestFormat): string {
  return format === 'oci' ? MediaType.ociConfig : MediaType.dockerConfig;
}

/** The family of a manifest media type (a manifest without one is OCI, as the image-spec allows). */
export function manifestFormatOf(mediaType: string | undefined): ManifestFormat {
  return mediaType === MediaType.dockerManifest ? 'docker' : 'oci';
}
