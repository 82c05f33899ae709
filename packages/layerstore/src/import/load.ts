/**
 * `tsbuild load`: an image archive of either kind, told apart by content after any
 * gzip/xz/zstd/bzip2 wrapping is undone: a docker-archive has `manifest.json` (docker
 * 25+ writes an OCI layout beside it: still a docker-archive, so RepoTags count); an
 * OCI archive has `index.json` and no `manifest.json`. Either way every image in it is
 * imported and verified, and tagged with the names the archive gives it.
 */
import type { Readable } from 'node:stream';
import { LayerstoreError } from '../errors.js';
import type { Descriptor } from '../image/types.js';
import type { Store } from '../store/store.js';
import { importArchive, type ArchiveImport, type ArchiveImportOptions, type ArchiveReader } from './archive-import.js';
import { dockerArchiveReader } from './docker-archive.js';
import { ociIndexImages, parseIndex } from './import.js';

export async function loadArchive(store: Store, input: Readable, opts: ArchiveImportOptions): Promise<ArchiveImport> {
  return importArchive(store, input, opts, anyArchiveReader);
}

const anyArchiveReader: ArchiveReader = async (scan, ctx) => {
  if (scan.meta.has('manifest.json')) return dockerArchiveReader(scan, ctx);
  if (scan.meta.has('index.json')) return ociArchiveReader(scan, ctx);
  throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${scan.where} is neither a docker-archive nor an OCI archive: it has no manifest.json or index.json`);
};

export const ociArchiveReader: ArchiveReader = async (scan, { store, platform }) => {
  const index = parseIndex(scan.meta.get('index.json')!, scan.where);
  const carried = new Set([...scan.files.values()].map((f) => f.digest));
  const fetch = async (d: Descriptor) => {
    if (!carried.has(d.digest) && (await store.blobs.size(d.digest)) !== d.size) {
      throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${scan.where} lacks blob ${d.digest}`);
    }
  };
  const images = await ociIndexImages(store, index, scan.where, platform, fetch);
  return { format: 'oci-archive', candidates: images };
};
