/**
 * `tsbuild store verify`: re-hash every blob, follow every tag to its manifest, config
 * and layers, and check the snapshots. Read-only (apart from the crash cleanup any
 * opening of the store does). Returns the problems found; none means the store is sound.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isDigest } from '../digest.js';
import { MediaType } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import { asIndex, asManifest } from '../image/validate.js';
import { asImageConfig } from '../image/validate-config.js';
import type { Store } from './store.js';

export interface VerifyResult {
  problems: string[];
  blobs: number;
  bytes: number;
  images: number;
  snapshots: number;
}

export async function verifyStore(store: Store, opts: { onProgress?: (message: string) => void } = {}): Promise<VerifyResult> {
  const problems: string[] = [];
  const result: VerifyResult = { problems, blobs: 0, bytes: 0, images: 0, snapshots: 0 };
  for (const name of await readdir(store.blobs.dir)) {
    const d = `sha256:${name}`;
    if (!isDigest(d)) {
      problems.push(`blobs/sha256/${name}: not a blob name (leftover of an interrupted write?)`);
      continue;
    }
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(join(store.blobs.dir, name), { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== d) problems.push(`blob ${d}: its content hashes to ${actual}`);
    result.blobs++;
    result.bytes += size;
  }
  opts.onProgress?.(`${result.blobs} blobs re-hashed`);

  const has = async (desc: Descriptor, what: string) => {
    const size = await store.blobs.size(desc.digest);
    if (size === undefined) problems.push(`${what}: blob ${desc.digest} is missing`);
    else if (size !== desc.size) problems.push(`${what}: blob ${desc.digest} is ${size} bytes, the descriptor says ${desc.size}`);
    return size === desc.size;
  };
  const visit = async (desc: Descriptor, what: string, depth = 0): Promise<void> => {
    if (!(await has(desc, what))) return;
    if (desc.mediaType === MediaType.ociIndex || desc.mediaType === MediaType.dockerManifestList) {
      const index = await store.blobs.readJson(desc).then((v) => asIndex(v, desc.digest), (err: Error) => err);
      if (index instanceof Error) return void problems.push(`${what}: ${desc.digest} is not an image index (${index.message})`);
      for (const m of index.manifests) if (depth < 4 && (await store.blobs.has(m.digest))) await visit(m, `${what} (${m.digest.slice(0, 19)})`, depth + 1);
      return;
    }
    const manifest = await store.blobs.readJson(desc).then((v) => asManifest(v, desc.digest), (err: Error) => err);
    if (manifest instanceof Error) return void problems.push(`${what}: ${desc.digest} is not an image manifest (${manifest.message})`);
    result.images++;
    if (!(await has(manifest.config, `${what} config`))) return;
    const config = await store.blobs.readJson(manifest.config).then((v) => asImageConfig(v, manifest.config.digest), (err: Error) => err);
    if (config instanceof Error) return void problems.push(`${what}: config ${manifest.config.digest} is not an image config (${config.message})`);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      problems.push(`${what}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`);
    }
    for (const [i, l] of manifest.layers.entries()) await has(l, `${what} layer ${i + 1}`);
  };
  for (const t of await store.tags.list()) await visit(t.descriptor, `tag ${t.name}`);
  for (const d of await store.tags.unnamed()) await visit(d, `untagged image ${d.digest}`);
  opts.onProgress?.(`${result.images} images checked`);

  for (const name of await readdir(store.snapshots.dir)) {
    const d = `sha256:${name}`;
    if (!isDigest(d)) {
      problems.push(`snapshots/${name}: an unfinished snapshot of a live process, or not a snapshot`);
      continue;
    }
    const st = await stat(join(store.snapshots.dir, name)).catch(() => undefined);
    if (!st?.isDirectory()) problems.push(`snapshot ${d}: not a directory`);
    result.snapshots++;
  }
  for (const name of await readdir(store.blobs.ingestDir)) problems.push(`ingest/${name}: a write in progress (or left by a live process)`);
  return result;
}
