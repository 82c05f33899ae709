/** The exporters of layerstore, one file per kind, all ImageSinks (sink.ts). */
export type { FileSinkOptions, ImageSink, SinkKind, SinkWriteOptions } from './sink.js';
export { ociArchiveSink } from './oci-archive.js';
export { ociLayoutSink } from './oci-layout.js';
export { dockerArchiveSink } from './docker-archive.js';
export { rootfsSink, type RootfsSinkOptions } from './rootfs.js';
export { registrySink, type RegistrySinkOptions } from './registry.js';
