/**
 * Layer checks of an import: each layer blob, decompressed, must hash to the diff_id
 * its config promises. Done before any tag points at the image, so a layer with a wrong
 * diff_id never becomes part of a usable image.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestingStream, type Digest } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { layerCompression } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import { decompressor } from '../layer/compress.js';
import type { Store, StoredImage } from '../store/store.js';

/** Layers checked at the same time (gunzip and zstd run off the main thread). */
const PARALLEL = 4;

export async function verifyDiffIds(store: Store, images: StoredImage[], where: string): Promise<void> {
  const jobs = new Map<string, { desc: Descriptor; diffId: Digest }>();
  for (const image of images) {
    const diffIds = image.config.rootfs.diff_ids;
    if (diffIds.length !== image.manifest.layers.length) {
      throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: image ${image.id} has ${image.manifest.layers.length} layers but ${diffIds.length} diff_ids`);
    }
    image.manifest.layers.forEach((desc, i) => jobs.set(`${desc.digest} ${diffIds[i]}`, { desc, diffId: diffIds[i]! }));
  }
  const queue = [...jobs.values()];
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await verifyLayer(store, job.desc, job.diffId, where);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
}

async function verifyLayer(store: Store, desc: Descriptor, diffId: Digest, where: string): Promise<void> {
  const what = `${where}: layer ${desc.digest} (diff_id ${diffId})`;
  const compression = layerCompression(desc.mediaType);
  if (compression === undefined) throw new LayerstoreError('TSBUILD_UNSUPPORTED', `${what} has unsupported media type ${desc.mediaType}`);
  // An uncompressed blob already named by its diff_id was hashed when it was written.
  if (compression === 'none' && desc.digest === diffId) return;
  const check = new DigestingStream({ digest: diffId, what });
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  try {
    await pipeline(await store.blobs.open(desc, `${where}: layer`), decompressor(compression), check, sink);
  } catch (err) {
    if (err instanceof LayerstoreError) throw err;
    throw new LayerstoreError('TSBUILD_TAR_INVALID', `${what}: cannot decompress ${compression}: ${(err as Error).message}`, { cause: err });
  }
}
