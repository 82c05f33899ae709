/**
 * The import pipeline shared by docker-archives and OCI archives:
 *
 *   input (file or pipe; gzip/xz/zstd/bzip2 undone by content)
 *   -> scanArchive: one pass, blobs into the store as they stream
 *   -> a format reader: the images the archive holds (candidates; nothing tagged)
 *   -> optionally pick one (FROM docker-archive:FILE:NAME)
 *   -> verifyDiffIds -> new manifests written -> tags set -> unreferenced blobs removed
 *
 * All or nothing: on any failure the blobs this import created are deleted and the tags
 * it changed are put back, so the store is as it was.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../digest.js';
import { LayerstoreError, ioError } from '../errors.js';
import type { Descriptor, Platform } from '../image/types.js';
import { autoDecompress } from '../layer/compress.js';
import { normaliseTagName, type Store, type StoredImage } from '../store/store.js';
import { scanArchive, type ArchiveScan } from './archive-scan.js';
import { BlobJournal } from './journal.js';
import { verifyDiffIds } from './verify.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

export interface ImportedImage {
  image: StoredImage;
  /** Familiar names (`busybox:latest`) the archive gives the image; may be empty. */
  names: string[];
}

/** An image found in an archive, not yet verified. */
export interface Candidate extends ImportedImage {
  /** A manifest still to be written (absent when the archive's own manifest is kept). */
  manifestBytes?: Buffer;
}

export type ArchiveReader = (scan: ArchiveScan, ctx: { store: Store; platform: Platform }) => Promise<{ format: ArchiveFormat; candidates: Candidate[] }>;

export interface ArchiveImportOptions {
  /** Names the input in messages, e.g. `archive /tmp/bb.tar`. */
  where: string;
  /** Chooses from multi-platform indexes. */
  platform: Platform;
  /** Set the archive's names as tags in the store (default true). */
  tag?: boolean;
  /** Import one image only: the one with this name, `@N` (the Nth, from 0), or the only one. */
  pick?: { name?: string };
  signal?: AbortSignal;
}

export interface ArchiveImport {
  format: ArchiveFormat;
  images: ImportedImage[];
}

export async function importArchive(store: Store, input: Readable, opts: ArchiveImportOptions, reader: ArchiveReader): Promise<ArchiveImport> {
  const { where, signal } = opts;
  const journal = new BlobJournal(store);
  const onAbort = () => input.destroy(signal?.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    const { stream } = await autoDecompress(input);
    const scan = await scanArchive(stream, journal, { where, ...(signal ? { signal } : {}) });
    const { format, candidates } = await reader(scan, { store, platform: opts.platform });
    if (candidates.length === 0) throw new LayerstoreError('TSBUILD_IMAGE_NOT_FOUND', `${where} holds no images`);
    const chosen = opts.pick ? [pick(candidates, opts.pick.name, where)] : candidates;
    await verifyDiffIds(store, chosen.map((c) => c.image), where);
    signal?.throwIfAborted();
    for (const c of chosen) {
      if (c.manifestBytes) await journal.writeBytes(c.manifestBytes, { digest: c.image.manifestDescriptor.digest, size: c.manifestBytes.length });
    }
    if (opts.tag !== false) await applyTags(store, chosen);
    await journal.finish(keepSet(chosen));
    return { format, images: chosen.map(({ image, names }) => ({ image, names })) };
  } catch (err) {
    await journal.abort();
    if (err instanceof LayerstoreError || signal?.aborted) throw err;
    throw ioError(`read ${where}`, err);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function pick(candidates: Candidate[], name: string | undefined, where: string): Candidate {
  if (name === undefined || name === '') {
    if (candidates.length === 1) return candidates[0]!;
    const names = candidates.map((c) => c.names[0] ?? c.image.id.slice(7, 19));
    throw new LayerstoreError('TSBUILD_IMAGE_NOT_FOUND', `${where} holds ${candidates.length} images; name one (${names.join(', ')})`);
  }
  const index = /^@(\d+)$/.exec(name);
  if (index) {
    const hit = candidates[Number(index[1])];
    if (!hit) throw new LayerstoreError('TSBUILD_IMAGE_NOT_FOUND', `${where} has no image ${name} (it holds ${candidates.length})`);
    return hit;
  }
  const want = normaliseTagName(name) ?? name;
  const hit = candidates.find((c) => c.names.includes(want));
  if (!hit) throw new LayerstoreError('TSBUILD_IMAGE_NOT_FOUND', `${where} has no image named ${JSON.stringify(name)}`);
  return hit;
}

/** Point every name at its image; on failure put back what the names pointed at before. */
async function applyTags(store: Store, images: ImportedImage[]): Promise<void> {
  const before: Array<[string, Descriptor | undefined]> = [];
  try {
    for (const { image, names } of images) {
      // An image without a name stays findable by its ID (docker's `<none>`).
      if (names.length === 0) await store.recordUnnamed(image);
      for (const name of names) {
        before.push([name, await store.tags.get(name)]);
        await store.tag(image, name);
      }
    }
  } catch (err) {
    for (const [name, previous] of before.reverse()) {
      await (previous ? store.tags.set(name, previous) : store.tags.remove(name)).catch(() => {});
    }
    throw err;
  }
}

function keepSet(images: ImportedImage[]): Set<Digest> {
  const keep = new Set<Digest>();
  for (const { image } of images) {
    keep.add(image.manifestDescriptor.digest);
    keep.add(image.manifest.config.digest);
    for (const l of image.manifest.layers) keep.add(l.digest);
  }
  return keep;
}
