/**
 * Layers in the store are kept uncompressed (the digest is the diff_id); compressed
 * blobs are made only when an export or push needs them, then remembered in
 * `cache/compressed/` so the next export reuses them.
 */
import { Readable } from 'node:stream';
import { isDigest, type Digest } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { layerCompression, MediaType, ociLayerMediaType, type Compression } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import type { Store } from '../store/store.js';
import { writeTar } from '../tar/index.js';
import { compressor, decompressor } from './compress.js';
import { diffEntries, type DiffOptions } from './diff.js';
import { countingContent, recordContentSize } from './content-size.js';

export interface CommittedLayer {
  diffId: Digest;
  descriptor: Descriptor;
  created: boolean;
}

/** Write the diff of an overlay upper dir as an uncompressed layer blob. */
export async function commitLayer(store: Store, upperDir: string, opts: DiffOptions = {}): Promise<CommittedLayer> {
  const content = { size: 0 };
  const stream = Readable.from(writeTar(countingContent(diffEntries(upperDir, { overlayForm: store.overlayForm, ...opts }), content)), { objectMode: false, highWaterMark: 1 << 20 });
  const res = await store.blobs.write(stream, { what: `layer of ${upperDir}` });
  // What `images` and `history` show for it, known now without reading the layer again.
  await recordContentSize(store, res.digest, res.digest, content.size);
  return { diffId: res.digest, descriptor: { mediaType: MediaType.ociLayer, digest: res.digest, size: res.size }, created: res.created };
}

interface CompressedRecord {
  digest: Digest;
  size: number;
}

/**
 * The layer `desc` (whose uncompressed digest is `diffId`) as a blob compressed with
 * `compression`, creating it in the store if needed.
 */
export async function layerAs(store: Store, desc: Descriptor, diffId: Digest, compression: Compression, level?: number): Promise<Descriptor> {
  const current = layerCompression(desc.mediaType);
  if (current === undefined) throw new LayerstoreError('TSBUILD_UNSUPPORTED', `layer ${desc.digest} has unsupported media type ${desc.mediaType}`);
  if (current === compression) return desc;
  const mediaType = ociLayerMediaType(compression);
  if (compression === 'none') return { mediaType, digest: diffId, size: await uncompressedSize(store, desc, diffId, current) };
  // `p1`: the parallel encoders (gzip members per 1 MiB, zstd frames per 8 MiB); blobs
  // an earlier encoder made are not reused, so the digest depends on the data alone.
  const recordKey = `${diffId.slice(7)}-${compression}-${level ?? 'default'}-p1`;
  const rec = await store.records<CompressedRecord>('compressed', { valid: (v) => isDigest(v.digest) && Number.isSafeInteger(v.size) }).get(recordKey);
  if (rec && (await store.blobs.size(rec.digest)) === rec.size) return { mediaType, digest: rec.digest, size: rec.size };
  const source = await store.blobs.open(desc, `layer ${desc.digest}`);
  const plain = current === 'none' ? source : source.pipe(decompressor(current));
  const packed = plain.pipe(compressor(compression, level === undefined ? {} : { level }));
  source.on('error', (err) => packed.destroy(err));
  plain.on('error', (err) => packed.destroy(err));
  const res = await store.blobs.write(packed, { what: `${compression} layer for ${diffId}` });
  await store.records<CompressedRecord>('compressed').put(recordKey, { digest: res.digest, size: res.size } satisfies CompressedRecord);
  return { mediaType, digest: res.digest, size: res.size };
}

/** An uncompressed, verified stream of a layer, whatever its blob's compression. */
export async function openUncompressed(store: Store, desc: Descriptor, diffId: Digest): Promise<Readable> {
  const current = layerCompression(desc.mediaType);
  if (current === undefined) throw new LayerstoreError('TSBUILD_UNSUPPORTED', `layer ${desc.digest} has unsupported media type ${desc.mediaType}`);
  if (current === 'none' && (await store.blobs.has(diffId))) return store.blobs.open({ digest: diffId }, `layer ${diffId}`);
  const source = await store.blobs.open(desc, `layer ${desc.digest}`);
  if (current === 'none') return source;
  const out = source.pipe(decompressor(current));
  source.on('error', (err) => out.destroy(err));
  return out;
}

async function uncompressedSize(store: Store, desc: Descriptor, diffId: Digest, current: Compression): Promise<number> {
  const have = await store.blobs.size(diffId);
  if (have !== undefined) return have;
  // Materialise the uncompressed blob (verified against the diff_id).
  const res = await store.blobs.write(await openUncompressed(store, desc, diffId), { digest: diffId, what: `uncompressed layer ${diffId} (from ${current} ${desc.digest})` });
  return res.size;
}
