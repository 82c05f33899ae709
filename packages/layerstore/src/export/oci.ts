/**
 * OCI image layout exports: a directory (`oci-layout`, `index.json`, `blobs/sha256/...`)
 * or the same as a tar archive (what `skopeo inspect oci-archive:FILE` reads).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { digestHex, type Digest } from '../digest.js';
import { MediaType } from '../image/media-types.js';
import { platformOf } from '../image/platform.js';
import { REF_NAME_ANNOTATION, type Descriptor, type Index } from '../image/types.js';
import { familiarName, parseReference, formatReference, withDefaultTag } from '../reference.js';
import { tempName, writeFileAtomic } from '../store/fsutil.js';
import type { Store, StoredImage } from '../store/store.js';
import { writeArchive, type ArchiveFile } from './archive-writer.js';
import { requireOneFamily } from './image-as.js';
import { parseJson } from '../image/json.js';
import { asIndex } from '../image/validate.js';

export interface ExportImage {
  image: StoredImage;
  /** Names such as `app:1.2`; each becomes an index entry. */
  names: string[];
}

const CONTAINERD_NAME = 'io.containerd.image.name';

/** Index entries for the images: one per name (or one unnamed entry). */
export function indexEntries(images: ExportImage[]): Descriptor[] {
  const out: Descriptor[] = [];
  for (const { image, names } of images) {
    const base: Descriptor = {
      ...image.manifestDescriptor,
      platform: platformOf(image.config),
    };
    if (names.length === 0) out.push(base);
    for (const name of names) {
      const ref = withDefaultTag(parseReference(name));
      out.push({ ...base, annotations: { [CONTAINERD_NAME]: formatReference(ref), [REF_NAME_ANNOTATION]: ref.tag ?? familiarName(ref) } });
    }
  }
  return out;
}

/** Every blob an image needs, manifest first, in a stable order. */
export function imageBlobs(image: StoredImage): Array<{ digest: Digest; size: number }> {
  return [image.manifestDescriptor, image.manifest.config, ...image.manifest.layers].map((d) => ({ digest: d.digest, size: d.size }));
}

function uniqueBlobs(images: ExportImage[]): Array<{ digest: Digest; size: number }> {
  const seen = new Map<Digest, { digest: Digest; size: number }>();
  for (const { image } of images) for (const b of imageBlobs(image)) seen.set(b.digest, b);
  return [...seen.values()].sort((a, b) => a.digest.localeCompare(b.digest));
}

export function layoutIndex(images: ExportImage[]): Index {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: indexEntries(images) };
}

/** The files of an OCI image layout, in tar order: blob dirs, blobs (sorted), index.json, oci-layout. */
export function layoutFiles(store: Store, images: ExportImage[]): { blobs: ArchiveFile[]; index: ArchiveFile; layout: ArchiveFile } {
  for (const { image } of images) requireOneFamily(image, 'OCI layout');
  const index = Buffer.from(`${JSON.stringify(layoutIndex(images))}\n`);
  const layout = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
  return {
    blobs: [
      { name: 'blobs', dir: true, body: Buffer.alloc(0), size: 0 },
      { name: 'blobs/sha256', dir: true, body: Buffer.alloc(0), size: 0 },
      ...uniqueBlobs(images).map((b) => ({
        name: blobPath(b.digest),
        size: b.size,
        body: () => store.blobs.open(b, `blob ${b.digest}`),
      })),
    ],
    index: { name: 'index.json', body: index, size: index.length },
    layout: { name: 'oci-layout', body: layout, size: layout.length },
  };
}

/** Where a blob lives inside a layout. */
export function blobPath(digest: Digest): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

export async function writeOciArchive(store: Store, dest: string, images: ExportImage[], opts: { mtime?: number } = {}): Promise<void> {
  const { blobs, index, layout } = layoutFiles(store, images);
  await writeArchive(dest, [...blobs, index, layout], opts.mtime ?? 0);
}

/** Write (or add to) an OCI layout directory; an existing entry with the same name is replaced. */
export async function writeOciLayout(store: Store, dir: string, images: ExportImage[]): Promise<void> {
  for (const { image } of images) requireOneFamily(image, `OCI layout ${dir}`);
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  for (const b of uniqueBlobs(images)) {
    const target = join(blobDir, digestHex(b.digest));
    const have = await stat(target).then((s) => s.size, () => -1);
    if (have === b.size) continue;
    // Verified while copying; renamed into place only when complete.
    const tmp = join(blobDir, tempName('.tmp-'));
    try {
      await pipeline(await store.blobs.open(b, `blob ${b.digest}`), createWriteStream(tmp));
      await rename(tmp, target);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }
  await writeFileAtomic(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const indexPath = join(dir, 'index.json');
  const text = await readFile(indexPath, 'utf8').catch(() => undefined);
  // An existing layout is added to; one whose index.json is not an index is an error naming it.
  const previous = text === undefined ? undefined : asIndex(parseJson(text, indexPath), indexPath);
  const fresh = indexEntries(images);
  const names = new Set(fresh.map((d) => d.annotations?.[REF_NAME_ANNOTATION]).filter((n) => n !== undefined));
  const kept = (previous?.manifests ?? []).filter((d) => {
    const n = d.annotations?.[REF_NAME_ANNOTATION];
    return n !== undefined && !names.has(n);
  });
  await writeFileAtomic(indexPath, `${JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...kept, ...fresh] } satisfies Index)}\n`);
}
