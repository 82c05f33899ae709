/**
 * @tsbuild/layerstore: images, blobs, layers and the local store. Knows nothing of
 * Dockerfiles. This is the whole public surface, listed by name: what the builder, the
 * end-to-end tests and bench/ use. Fakes and test servers: `@tsbuild/layerstore/testing`.
 */

// Errors: callers branch on the class or the code.
export { LayerstoreError, IntegrityError, NotFoundError, TarError, ioError, type LayerstoreErrorCode } from './errors.js';
export { RegistryError } from './registry/errors.js';

// Values: digests, references, platforms, OCI documents.
export { isDigest, type Digest } from './digest.js';
export { parseReference, parseTag, withDefaultTag, formatReference, familiarString, type Reference } from './reference.js';
export { formatPlatform, hostPlatform, isHostPlatform, parsePlatform, platformOf, samePlatform } from './image/platform.js';
export { MediaType, type Compression, type ManifestFormat } from './image/media-types.js';
export type { Platform, Descriptor, Manifest, Index, ImageConfig, ContainerConfig, HealthConfig, HistoryEntry } from './image/types.js';
export { isJsonObject } from './image/json.js';
export { asDescriptor, badDocument, type Bad } from './image/validate.js';

// The store: images and tags, snapshots, records, transactions, upkeep.
export type { ContentStore, BlobRef, Expected, WriteResult } from './store/content.js';
export { Store, normaliseTagName, type StoredImage, type ImageListing } from './store/store.js';
export { isHoldingRecord, type HoldingRecord, type RecordKind, type RecordStore } from './store/records.js';
export type { Tag, TagStore } from './store/tag-store.js';
export { defaultStoreRoot } from './store/root.js';
export { cloneStore, copyImage, discardStore } from './store/clone.js';
export { chainIds, type PreparedSnapshot, type SnapshotStore } from './store/snapshots.js';
export { ensureSnapshots, type UnpackOptions } from './store/unpack.js';
export { trackChanges, transaction, type StoreChanges } from './store/changes.js';
export { prune, type PruneResult } from './store/gc.js';
export { verifyStore, type VerifyResult } from './store/verify.js';
export { namesOf } from './store/by-image.js';
export { repoDigests } from './store/repo-digests.js';
export { fileChunks } from './store/fsutil.js';

// Layers: root filesystems over snapshots, tree copies, diffs into layers, sizes.
export { RootFs, type Entry, type RootFsOptions } from './layer/rootfs.js';
export type { OverlayForm, OverlayXattrs, WhiteoutForm } from './layer/whiteout.js';
export { Copier, type CopyOptions, type CopySource } from './layer/copy-tree.js';
export { applyTar, type ApplyOptions } from './layer/apply.js';
export { commitLayer, type CommittedLayer } from './layer/commit.js';
export { imageContentSize, layerContentSizes, type ImageSizeOptions } from './layer/content-size.js';
export { autoDecompress, compressor, detectFormat, peek, type Format } from './layer/compress.js';
export { hostPath, joinComponents, show, splitPath, type Components } from './layer/paths.js';
export { readTar, encodeHeader, type TarEntry, type TarHeader, type ReadTarOptions } from './tar/index.js';

// Sources: where images come from.
export { resolveImage, resolveImageRef, importLocalImage, type ImageSourceOptions, type ResolvedImage } from './source/resolve.js';
export { importOciLayout, type ImportOptions } from './import/import.js';
export { loadArchive } from './import/load.js';
export type { ArchiveFormat, ArchiveImport, ArchiveImportOptions, ImportedImage } from './import/archive-import.js';

// Sinks: where images go (one ImageSink per kind), and the forms they write.
export * from './sink/index.js';
export { imageAs, type ImageForm } from './export/image-as.js';
export { writeOciArchive, writeOciLayout, type ExportImage } from './export/oci.js';
export { writeDockerArchive } from './export/docker-archive.js';
export { layerAsStream } from './export/layer-stream.js';

// Registries.
export { RegistryClient, type RegistryClientOptions } from './registry/client.js';
export type { PullOptions, PullResult, PushOptions, PushResult, RegistryEvent } from './registry/index.js';
export { loadRegistryConfig, type RegistryConfig, type LoadConfigOptions } from './registry/config.js';
export { login, logout, type LoginOptions } from './registry/login.js';
