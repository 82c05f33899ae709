/**
 * docker-archive import: what `docker save`, `podman save` and `buildah push
 * docker-archive:` write.
 *
 *   manifest.json   [{"Config": "<hex>.json", "RepoTags": ["busybox:latest"], "Layers": [...]}]
 *   <hex>.json      the image config, byte for byte (its digest is the image ID)
 *   layers          `<v1 id>/layer.tar` (docker before 25), `<diff id>.tar` with
 *                   `<v1 id>/layer.tar` symlinks to it (containers/image), or
 *                   `blobs/sha256/<hex>` (docker 25+, inside an OCI layout); uncompressed
 *                   or gzip/zstd compressed, whatever their names say
 *
 * Each image becomes: the config blob as is, the layer blobs as they are with OCI media
 * types matching their content, and a new OCI manifest — or, when the archive also
 * carries an OCI index whose manifest names exactly this config and these layers
 * (docker 25+), that manifest byte for byte.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { sha256, type Digest } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { layerCompression, MediaType, ociLayerMediaType } from '../image/media-types.js';
import { isJsonObject } from '../image/json.js';
import type { Descriptor, Manifest } from '../image/types.js';
import { asIndex, asManifest } from '../image/validate.js';
import { asImageConfig } from '../image/validate-config.js';
import { detectFormat } from '../layer/compress.js';
import { familiarString, parseTag } from '../reference.js';
import type { Store } from '../store/store.js';
import { importArchive, type ArchiveImport, type ArchiveImportOptions, type ArchiveReader, type Candidate } from './archive-import.js';
import { archivedFile, metaJson, type ArchiveScan, type ArchivedBlob } from './archive-scan.js';
import { isIndexMediaType } from './select.js';

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** Import every image of a docker-archive (a file stream or stdin); tags come from RepoTags. */
export async function importDockerArchive(store: Store, input: Readable, opts: ArchiveImportOptions): Promise<ArchiveImport> {
  return importArchive(store, input, opts, async (scan, ctx) => {
    if (!scan.meta.has('manifest.json')) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${scan.where} has no manifest.json: not a docker-archive`);
    return dockerArchiveReader(scan, ctx);
  });
}

export const dockerArchiveReader: ArchiveReader = async (scan, { store }) => {
  const entries = parseManifestJson(metaJson(scan, 'manifest.json'), scan.where);
  const byManifest = new Map<Digest, Candidate>();
  for (const [i, entry] of entries.entries()) {
    const c = await candidate(store, scan, entry, `${scan.where}: manifest.json entry ${i}`);
    const seen = byManifest.get(c.image.manifestDescriptor.digest);
    if (seen) seen.names = [...new Set([...seen.names, ...c.names])];
    else byManifest.set(c.image.manifestDescriptor.digest, c);
  }
  return { format: 'docker-archive', candidates: [...byManifest.values()] };
};

function parseManifestJson(value: unknown, where: string): DockerManifestEntry[] {
  const bad = (why: string) => new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: manifest.json ${why}`);
  if (!Array.isArray(value)) throw bad('is not a list of images');
  return value.map((e: unknown, i) => {
    const entry = e as Partial<DockerManifestEntry> | null;
    if (typeof entry?.Config !== 'string') throw bad(`entry ${i} has no Config`);
    if (!Array.isArray(entry.Layers) || entry.Layers.some((l) => typeof l !== 'string')) throw bad(`entry ${i} has no Layers list`);
    const tags = entry.RepoTags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw bad(`entry ${i}: RepoTags is not a list of names`);
    return { Config: entry.Config, RepoTags: tags, Layers: entry.Layers };
  });
}

function member(scan: ArchiveScan, name: string, what: string, where: string): ArchivedBlob {
  const file = archivedFile(scan, name);
  if (!file) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: ${what} ${JSON.stringify(name)} is not in the archive`);
  return file;
}

async function candidate(store: Store, scan: ArchiveScan, entry: DockerManifestEntry, where: string): Promise<Candidate> {
  const cfgFile = member(scan, entry.Config, 'config', where);
  const configWhat = `${where}: config ${entry.Config} (${cfgFile.digest})`;
  const config = asImageConfig(await store.blobs.readJson(cfgFile, configWhat), configWhat);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== entry.Layers.length) {
    throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: ${entry.Layers.length} layers but config ${cfgFile.digest} has ${diffIds.length} diff_ids`);
  }
  const layers: Descriptor[] = [];
  for (const name of entry.Layers) {
    const blob = member(scan, name, 'layer', where);
    layers.push({ mediaType: await layerMediaType(store, blob, `${where}: layer ${name}`), digest: blob.digest, size: blob.size });
  }
  const names = (entry.RepoTags ?? []).map((t) => {
    try {
      return familiarString(parseTag(t));
    } catch (err) {
      throw new LayerstoreError('TSBUILD_REFERENCE_INVALID', `${where}: RepoTags: ${(err as Error).message}`, { cause: err });
    }
  });
  const configDesc: Descriptor = { mediaType: MediaType.ociConfig, digest: cfgFile.digest, size: cfgFile.size };
  const kept = await archivedManifest(store, scan, configDesc.digest, layers);
  if (kept) return { image: { manifestDescriptor: kept.descriptor, manifest: kept.manifest, config, id: configDesc.digest }, names };
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDescriptor: Descriptor = { mediaType: MediaType.ociManifest, digest: sha256(manifestBytes), size: manifestBytes.length };
  return { image: { manifestDescriptor, manifest, config, id: configDesc.digest }, names, manifestBytes };
}

/** The OCI media type of a layer blob, from its first bytes (names and archives lie). */
async function layerMediaType(store: Store, blob: ArchivedBlob, what: string): Promise<string> {
  const fh = await open(store.blobs.path(blob.digest), 'r');
  let head: Buffer;
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(6), 0, 6, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const format = detectFormat(head);
  if (format !== 'none' && format !== 'gzip' && format !== 'zstd') {
    throw new LayerstoreError('TSBUILD_UNSUPPORTED', `${what} (${blob.digest}) is ${format}-compressed; image layers are uncompressed, gzip or zstd`);
  }
  return ociLayerMediaType(format);
}

/**
 * docker 25+ puts an OCI layout beside manifest.json: keep its manifest when it names
 * exactly this config and these layer blobs. Only blobs the archive carries are read.
 */
async function archivedManifest(store: Store, scan: ArchiveScan, config: Digest, layers: Descriptor[]): Promise<{ descriptor: Descriptor; manifest: Manifest } | undefined> {
  // Only a hint: an index or manifest that is not well formed is passed over.
  const valid = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (err) {
      if (err instanceof LayerstoreError) return undefined;
      throw err;
    }
  };
  const doc = scan.meta.has('index.json') ? metaJson(scan, 'index.json') : undefined;
  const index = doc === undefined ? undefined : valid(() => asIndex(doc, `${scan.where}: index.json`));
  if (!index) return undefined;
  const carried = new Set([...scan.files.values()].map((f) => f.digest));
  const queue: Array<{ d: Descriptor; depth: number }> = index.manifests.map((d) => ({ d, depth: 0 }));
  for (let reads = 0; queue.length > 0 && reads < 64; reads++) {
    const { d, depth } = queue.shift()!;
    if (!carried.has(d.digest)) continue;
    const what = `${scan.where}: ${d.digest}`;
    const value = await store.blobs.readJson(d, what).catch(() => undefined);
    if (isIndexMediaType(d.mediaType) || (isJsonObject(value) && 'manifests' in value)) {
      const child = valid(() => asIndex(value, what));
      if (child && depth < 4) for (const c of child.manifests) queue.push({ d: c, depth: depth + 1 });
      continue;
    }
    const m = valid(() => asManifest(value, what));
    const same = m?.config.digest === config && m.layers.length === layers.length && m.layers.every((l, i) => sameLayer(l, layers[i]!));
    if (same) return { descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size }, manifest: m };
  }
  return undefined;
}

function sameLayer(theirs: Descriptor, ours: Descriptor): boolean {
  return theirs?.digest === ours.digest && theirs.size === ours.size && layerCompression(theirs.mediaType) === layerCompression(ours.mediaType);
}
