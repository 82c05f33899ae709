/**
 * validateImage(): the one oracle for a written image, wherever a sink put it (a store,
 * an OCI layout, an OCI archive, a docker-archive, a registry). It checks what an OCI
 * tool checks, from the bytes, recomputing every digest itself:
 *
 *   - the manifest and config parse and have the shapes image/validate*.ts demand; the
 *     manifest's media types are of one family (OCI or Docker), the same the descriptor
 *     naming it says;
 *   - every descriptor's digest and size are those of the blob it names;
 *   - the config's rootfs.diff_ids are the digests of the uncompressed layers, in order,
 *     and the history has one non-empty-layer entry per layer;
 *   - a layout's oci-layout and index.json, with the names our writers record
 *     (layout-checks.ts); a docker-archive's manifest.json agrees with its OCI index;
 *   - skopeo, and umoci for a named layout entry, read it (image-tools.ts).
 *
 * All problems found are thrown together as one Error. What it returns describes the
 * image so that two can be compared:
 *
 *     const written = await validateImage({ kind: 'oci-archive', path: 'app.tar' }, { names: ['app:1'] });
 *     t.deepEqual(await validateImage({ kind: 'store', store, image: back }), written);
 */
import { sha256, type Digest } from '../digest.js';
import { mixedMediaTypes } from '../image/form.js';
import { parseJson } from '../image/json.js';
import { layerCompression, MediaType, type Compression, type ManifestFormat } from '../image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor, type ImageConfig, type Manifest } from '../image/types.js';
import { asManifest } from '../image/validate.js';
import { asImageConfig } from '../image/validate-config.js';
import { checkWithTools, uncompressedDigest } from './image-tools.js';
import { openImage, type ImageLocation, type OpenedImage } from './image-location.js';
import { checkDockerManifest, checkLayout, Problems } from './layout-checks.js';

export type { ImageLocation } from './image-location.js';

export interface ValidateImageOptions {
  /** Every name the location must record (index annotations, RepoTags), as given to the sink; unchecked when absent. */
  names?: string[];
  /** Ask skopeo and umoci too (default: yes; a store image has nothing for them to read). */
  tools?: boolean;
}

export interface ImageDescription {
  /** The media-type family of the manifest. */
  family: ManifestFormat;
  manifest: Digest;
  /** The config's digest: the image ID. */
  config: Digest;
  diffIds: Digest[];
  /** Each layer blob's compression, as its media type says (and its bytes bear out). */
  compression: Compression[];
  /** `os/architecture[/variant]` of the config. */
  platform: string;
}

const MANIFEST_TYPES: string[] = [MediaType.ociManifest, MediaType.dockerManifest];

/** A blob's bytes, checked against its descriptor; undefined (and a problem) when missing or wrong. */
async function checkedBlob(opened: OpenedImage, d: Descriptor, what: string, problems: Problems): Promise<Buffer | undefined> {
  const bytes = await opened.blob(d.digest);
  if (!bytes) {
    problems.add(`${what}: no blob ${d.digest}`);
    return undefined;
  }
  const digest = sha256(bytes);
  if (digest !== d.digest || bytes.length !== d.size) {
    problems.add(`${what}: the blob is ${digest} (${bytes.length} bytes), its descriptor says ${d.digest} (${d.size} bytes)`);
    return undefined;
  }
  return bytes;
}

function parsed<T>(bytes: Buffer | undefined, what: string, as: (v: unknown, what: string) => T, problems: Problems): T {
  if (!bytes) throw problems.error();
  try {
    return as(parseJson(bytes, what), what);
  } catch (err) {
    return problems.fatal((err as Error).message);
  }
}

const platformOf = (c: { os: string; architecture: string; variant?: string | undefined }) => [c.os, c.architecture, ...(c.variant ? [c.variant] : [])].join('/');

async function checkLayers(opened: OpenedImage, manifest: Manifest, config: ImageConfig, problems: Problems): Promise<Compression[]> {
  const diffIds = config.rootfs.diff_ids;
  if (manifest.layers.length !== diffIds.length) problems.add(`${manifest.layers.length} layers, but the config has ${diffIds.length} diff_ids`);
  const compression: Compression[] = [];
  for (const [i, layer] of manifest.layers.entries()) {
    const c = layerCompression(layer.mediaType);
    if (c === undefined) problems.add(`layer ${i + 1}: ${layer.mediaType} is not a layer media type`);
    compression.push(c ?? 'none');
    const bytes = await checkedBlob(opened, layer, `layer ${i + 1}`, problems);
    if (!bytes || c === undefined) continue;
    const diffId = await uncompressedDigest(bytes, c).catch((err: Error) => {
      problems.add(`layer ${i + 1}: not ${c} as its media type says: ${err.message}`);
      return undefined;
    });
    if (diffId !== undefined && diffId !== diffIds[i]) problems.add(`layer ${i + 1}: uncompressed it is ${diffId}, rootfs.diff_ids[${i}] is ${diffIds[i]}`);
  }
  const made = config.history?.filter((h) => !h.empty_layer).length;
  if (made !== undefined && made !== manifest.layers.length) problems.add(`history has ${made} entries that made a layer, the manifest ${manifest.layers.length} layers`);
  return compression;
}

export async function validateImage(where: ImageLocation, opts: ValidateImageOptions = {}): Promise<ImageDescription> {
  const opened = await openImage(where);
  const problems = new Problems(opened.what);
  const name = 'name' in where ? where.name : undefined;
  try {
    const root = opened.root ?? (await checkLayout(opened.dir!, problems, { name, names: opts.names }));
    if (!MANIFEST_TYPES.includes(root.mediaType)) problems.fatal(`the manifest's descriptor has media type ${root.mediaType}, not an image manifest's`);
    const manifest = parsed(await checkedBlob(opened, root, 'manifest', problems), `manifest ${root.digest}`, asManifest, problems);
    if (manifest.mediaType !== root.mediaType) problems.add(`the manifest says it is ${manifest.mediaType}, its descriptor ${root.mediaType}`);
    const mixed = mixedMediaTypes(manifest);
    if (mixed !== undefined) problems.add(`the manifest mixes media-type families: ${mixed}`);
    const config = parsed(await checkedBlob(opened, manifest.config, 'config', problems), `config ${manifest.config.digest}`, asImageConfig, problems);
    const compression = await checkLayers(opened, manifest, config, problems);
    const entry = root;
    if (entry.platform && platformOf(entry.platform) !== platformOf(config)) problems.add(`index entry platform ${platformOf(entry.platform)}, the config's ${platformOf(config)}`);
    if (where.kind === 'docker-archive') await checkDockerManifest(opened.dir!, manifest, problems, { name, names: opts.names });
    if (where.kind === 'store' && where.image.id !== manifest.config.digest) problems.add(`the store calls it ${where.image.id}, its config is ${manifest.config.digest}`);
    const family = manifest.mediaType === MediaType.dockerManifest ? 'docker' : 'oci';
    if (opts.tools !== false) {
      const facts = { manifest: root.digest, config: manifest.config.digest, layers: manifest.layers.length, refName: entry.annotations?.[REF_NAME_ANNOTATION], dockerName: name, family } as const;
      await checkWithTools(opened, where.kind, facts, problems);
    }
    if (problems.list.length > 0) throw problems.error();
    return {
      family,
      manifest: root.digest,
      config: manifest.config.digest,
      diffIds: config.rootfs.diff_ids,
      compression,
      platform: platformOf(config),
    };
  } finally {
    await opened.close();
  }
}
