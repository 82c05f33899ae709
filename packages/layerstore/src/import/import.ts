/**
 * Bring an image from an OCI layout directory or an OCI archive into the store.
 * Every blob is verified against its digest on the way in; manifests and indexes are
 * kept byte for byte (so digests stay the same); the image is then read from the store.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDigest, type Digest } from '../digest.js';
import { LayerstoreError, ioError } from '../errors.js';
import { MAX_JSON_BLOB } from '../store/blobs.js';
import type { Store, StoredImage } from '../store/store.js';
import { transaction } from '../store/changes.js';
import { parseJson } from '../image/json.js';
import { REF_NAME_ANNOTATION, type Descriptor, type Index, type Platform } from '../image/types.js';
import { asIndex, asManifest } from '../image/validate.js';
import { familiarString, parseTag } from '../reference.js';
import { readTar } from '../tar/index.js';
import { CONTAINERD_NAME, isIndexMediaType, selectEntry, selectPlatform } from './select.js';

export interface ImportOptions {
  /** The image's name inside the layout/archive (its ref.name), if it holds several. */
  name?: string;
  platform: Platform;
}

/** Follow an index entry down to a single image manifest already in the store. */
async function resolveToImage(store: Store, entry: Descriptor, where: string, platform: Platform, fetch: (d: Descriptor) => Promise<void>): Promise<StoredImage> {
  let desc = entry;
  for (let depth = 0; isIndexMediaType(desc.mediaType); depth++) {
    if (depth > 4) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: indexes nested too deep`);
    await fetch(desc);
    const what = `${where}: index ${desc.digest}`;
    desc = selectPlatform(asIndex(await store.blobs.readJson(desc, what), what), platform, where);
  }
  await fetch(desc);
  const what = `${where}: manifest ${desc.digest}`;
  const manifest = asManifest(await store.blobs.readJson(desc, what), what);
  for (const d of [manifest.config, ...manifest.layers]) await fetch(d);
  return store.loadImage(desc);
}

/** An OCI image layout directory (`oci:DIR[:NAME]`, `oci-layout://DIR[:NAME]`). */
export async function importOciLayout(store: Store, dir: string, opts: ImportOptions): Promise<StoredImage> {
  return transaction(store, () => importLayout(store, dir, opts));
}

async function importLayout(store: Store, dir: string, opts: ImportOptions): Promise<StoredImage> {
  const where = `OCI layout ${dir}`;
  const index = await readIndex(join(dir, 'index.json'), where);
  const entry = selectEntry(index, where, opts.name);
  const fetch = async (d: Descriptor) => {
    const digest = parseDigest(d.digest);
    if ((await store.blobs.size(digest)) === d.size) return;
    const path = join(dir, 'blobs', 'sha256', digest.slice(7));
    await stat(path).catch((err) => {
      throw ioError(`${where}: blob ${digest}`, err);
    });
    await store.blobs.write(createReadStream(path), { digest, size: d.size, what: `${where}: blob ${digest}` });
  };
  return resolveToImage(store, entry, where, opts.platform, fetch);
}

/** An OCI archive: a tar of an OCI layout (`oci-archive:FILE[:NAME]`). Streamed once. */
export async function importOciArchive(store: Store, file: string, opts: ImportOptions): Promise<StoredImage> {
  return transaction(store, () => importArchive(store, file, opts));
}

async function importArchive(store: Store, file: string, opts: ImportOptions): Promise<StoredImage> {
  const where = `OCI archive ${file}`;
  let indexBytes: Buffer | undefined;
  const seen = new Set<Digest>();
  try {
    for await (const entry of readTar(createReadStream(file, { highWaterMark: 1 << 20 }))) {
      const name = entry.header.name.toString('utf8').replace(/^\.\//, '');
      const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
      if (entry.header.type === 'file' && m) {
        const digest = `sha256:${m[1]}` as Digest;
        await store.blobs.write(entry.body, { digest, size: entry.header.size, what: `${where}: blob ${digest}` });
        seen.add(digest);
      } else if (entry.header.type === 'file' && name === 'index.json') {
        if (entry.header.size > MAX_JSON_BLOB) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: index.json is larger than ${MAX_JSON_BLOB} bytes`);
        const chunks: Buffer[] = [];
        for await (const c of entry.body) chunks.push(c);
        indexBytes = Buffer.concat(chunks);
      }
    }
  } catch (err) {
    if (err instanceof LayerstoreError) throw err;
    throw ioError(`read ${where}`, err);
  }
  if (!indexBytes) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where} has no index.json: not an OCI archive`);
  const index = parseIndex(indexBytes, where);
  const entry = selectEntry(index, where, opts.name);
  const fetch = async (d: Descriptor) => {
    if (!seen.has(d.digest) && (await store.blobs.size(d.digest)) !== d.size) {
      throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where} lacks blob ${d.digest}`);
    }
  };
  return resolveToImage(store, entry, where, opts.platform, fetch);
}

/**
 * Every image an OCI index names (the all-images variant of importOciArchive, for
 * `tsbuild load`): nested indexes resolved for `platform`, entries naming the same
 * manifest merged, names from `io.containerd.image.name` or a full-reference
 * `org.opencontainers.image.ref.name` (a bare tag such as `latest` names nothing).
 * `fetch` makes a blob available in the store or fails.
 */
export async function ociIndexImages(
  store: Store,
  index: Index,
  where: string,
  platform: Platform,
  fetch: (d: Descriptor) => Promise<void>,
): Promise<Array<{ image: StoredImage; names: string[] }>> {
  const out = new Map<Digest, { image: StoredImage; names: string[] }>();
  for (const entry of index.manifests) {
    const image = await resolveToImage(store, entry, where, platform, fetch);
    const seen = out.get(image.manifestDescriptor.digest) ?? { image, names: [] };
    const name = loadName(entry);
    if (name !== undefined && !seen.names.includes(name)) seen.names.push(name);
    out.set(image.manifestDescriptor.digest, seen);
  }
  return [...out.values()];
}

function loadName(entry: Descriptor): string | undefined {
  const full = entry.annotations?.[CONTAINERD_NAME];
  const refName = entry.annotations?.[REF_NAME_ANNOTATION];
  const candidate = full ?? (refName !== undefined && /[:/@]/.test(refName) ? refName : undefined);
  if (candidate === undefined) return undefined;
  try {
    return familiarString(parseTag(candidate));
  } catch {
    return undefined;
  }
}

async function readIndex(path: string, where: string): Promise<Index> {
  const st = await stat(path).catch((err) => {
    throw new LayerstoreError('TSBUILD_IMAGE_NOT_FOUND', `${where}: no index.json (${(err as NodeJS.ErrnoException).code})`);
  });
  if (st.size > MAX_JSON_BLOB) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: index.json is larger than ${MAX_JSON_BLOB} bytes`);
  return parseIndex(await readFile(path), where);
}

export function parseIndex(bytes: Buffer, where: string): Index {
  const what = `${where}: index.json`;
  return asIndex(parseJson(bytes, what), what);
}
