/**
 * A layer's size as docker shows it (SIZE in `docker images` and `docker history`, Size in
 * `docker image inspect`): the uncompressed bytes of what the layer holds, counted as
 * docker's graph drivers count a layer directory: regular files by their length, symlinks
 * by the length of their target, directories, devices, whiteouts and second names of
 * hard links by nothing. So an empty layer (a WORKDIR that existed, a RUN that changed
 * nothing) is 0 B, and the stored blob's size (compressed, or tar headers and padding)
 * never shows.
 *
 * Found once per layer and remembered in `cache/layer-sizes/<hex of the blob it was read from>`:
 *   { "digest": "<that blob>", "diffId": "sha256:...", "size": 1234 }
 * which goes with that blob (store/blob-bound-records.ts), like the other cache records; the
 * record of a layer's uncompressed blob (named by its diff_id) serves its compressed
 * forms too. A layer written by a
 * build (commit.ts) or unpacked into a snapshot (unpack.ts) is counted on the way, for
 * free; any other layer (pulled or loaded and not used yet) is read once, decompressed,
 * the first time a size is asked for.
 */
import type { Digest } from '../digest.js';
import { digestHex } from '../digest.js';
import { layerAsStream } from '../export/layer-stream.js';
import type { Descriptor } from '../image/types.js';
import type { Store, StoredImage } from '../store/store.js';
import { readTar, type TarEntry, type TarHeader } from '../tar/index.js';

const KIND = 'layer-sizes';

interface SizeRecord {
  digest: Digest;
  diffId: Digest;
  size: number;
}

/** What one tar entry adds to the layer's content size. */
export function entryContentSize(header: Pick<TarHeader, 'type' | 'size' | 'linkname'>): number {
  if (header.type === 'file') return header.size;
  if (header.type === 'symlink') return header.linkname?.length ?? 0;
  return 0;
}

/** Passes entries through, adding up their content size into `total.size`. */
export async function* countingContent<E extends { header: Pick<TarHeader, 'type' | 'size' | 'linkname'> }>(entries: AsyncIterable<E>, total: { size: number }): AsyncGenerator<E> {
  for await (const e of entries) {
    total.size += entryContentSize(e.header);
    yield e;
  }
}

export async function recordContentSize(store: Store, blob: Digest, diffId: Digest, size: number): Promise<void> {
  await store.records<SizeRecord>(KIND).put(digestHex(blob), { digest: blob, diffId, size } satisfies SizeRecord);
}

/** The size recorded for the blob `blob`, or for the layer's uncompressed blob. */
async function recorded(store: Store, blob: Digest, diffId: Digest): Promise<number | undefined> {
  for (const key of new Set([blob, diffId])) {
    const rec = await store.records<Partial<SizeRecord>>(KIND).get(digestHex(key));
    if (rec?.digest === key && rec.diffId === diffId && Number.isSafeInteger(rec.size) && rec.size! >= 0) return rec.size;
  }
  return undefined;
}

/** The content size of one layer (`desc`, whose uncompressed digest is `diffId`). */
export async function layerContentSize(store: Store, desc: Descriptor, diffId: Digest): Promise<number> {
  const known = await recorded(store, desc.digest, diffId);
  if (known !== undefined) return known;
  const total = { size: 0 };
  for await (const entry of countingContent<TarEntry>(readTar(await layerAsStream(store, desc, diffId)), total)) void entry;
  await recordContentSize(store, desc.digest, diffId, total.size);
  return total.size;
}

export interface ImageSizeOptions {
  /** Shared between calls (one `images` listing): each layer is looked up once. */
  memo?: Map<Digest, Promise<number>>;
}

/**
 * The image's size: its layers' content sizes added up. A layer that cannot be read (a
 * damaged store; `store verify` names it) counts its descriptor's size instead, so a
 * listing still shows every image.
 */
export async function imageContentSize(store: Store, image: StoredImage, opts: ImageSizeOptions = {}): Promise<number> {
  const sizes = await layerContentSizes(store, image, opts);
  return sizes.reduce((n, s) => n + s, 0);
}

/** Each layer's content size, bottom first (same fallback as imageContentSize). */
export async function layerContentSizes(store: Store, image: StoredImage, opts: ImageSizeOptions = {}): Promise<number[]> {
  const memo = opts.memo ?? new Map<Digest, Promise<number>>();
  const out: number[] = [];
  for (const [i, desc] of image.manifest.layers.entries()) {
    const diffId = image.config.rootfs.diff_ids[i];
    if (diffId === undefined) {
      out.push(desc.size);
      continue;
    }
    let p = memo.get(diffId);
    if (!p) memo.set(diffId, (p = layerContentSize(store, desc, diffId).catch(() => desc.size)));
    out.push(await p);
  }
  return out;
}
