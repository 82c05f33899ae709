/**
 * Where images go. Every exporter (OCI archive, OCI layout, docker-archive, root
 * filesystem, registry) is an ImageSink: it takes a store image and writes it in the
 * form it was made with, so a caller chooses among them and treats them alike:
 *
 *   const sinks = [ociArchiveSink('app.tar', { names: ['app:1'], form: { compression: 'zstd' } }),
 *                  rootfsSink('out/')];
 *   for (const sink of sinks) await sink.write(store, image, { signal });
 *
 * Sinks that write a manifest convert the image to their form first (imageAs: the same
 * config, so the same image ID) and return that manifest's descriptor; a sink that
 * writes no manifest (a root filesystem) returns undefined. Sinks never print; what
 * they have to say goes to the callbacks of their options.
 */
import type { ImageForm } from '../export/image-as.js';
import type { Descriptor } from '../image/types.js';
import type { Store, StoredImage } from '../store/store.js';

export type SinkKind = 'oci-archive' | 'oci-layout' | 'docker-archive' | 'rootfs' | 'registry' | (string & {});

export interface SinkWriteOptions {
  signal?: AbortSignal;
}

export interface ImageSink {
  readonly kind: SinkKind;
  /** Write `image`; the descriptor of the manifest written or pushed, when there is one. */
  write(store: Store, image: StoredImage, opts?: SinkWriteOptions): Promise<Descriptor | undefined>;
}

/** Options of the sinks that write archives and layouts. */
export interface FileSinkOptions {
  /** Names recorded for the image (index annotations, RepoTags); none: an unnamed entry. */
  names?: string[];
  /** Media-type family and layer compression (see imageAs); default: the image as it is. */
  form?: ImageForm;
  /** Archive entry times (SOURCE_DATE_EPOCH), default 0. */
  mtime?: number;
}
