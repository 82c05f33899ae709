/**
 * Pull: reference -> (index -> platform) -> manifest -> config -> layers, into the store.
 *
 *   1. resolve: the tag's or digest's manifest (HEAD first for a tag: if the store already
 *      holds the digest the registry names, its verified bytes are used); an index is
 *      followed to the manifest for the platform (nested at most 4 deep).
 *   2. config: at most 4 MiB, read into memory, checked against its digest and size, parsed;
 *      its diff_ids must be one per layer.
 *   3. layers, in parallel (bounded by the client): a blob already in the store is kept
 *      (its diff_id checked once, then remembered); a missing one is streamed into the
 *      store, verified by size, digest and diff_id before commit (blob-fetch.ts). Foreign
 *      `urls` are never fetched: the blob comes from the registry or not at all (case 62).
 *   4. the manifest (and index) bytes are stored unchanged, the image is read back from
 *      the store, tagged, its blobs recorded for cross-repository mounts and its
 *      repository digest (`busybox@sha256:...`) for inspect's RepoDigests.
 *
 * Any failure removes what this pull added (changes.ts) and tags nothing.
 */
import { IntegrityError, LayerstoreError } from '../errors.js';
import { layerCompression, MediaType } from '../image/media-types.js';
import { parseJson } from '../image/json.js';
import type { Descriptor, ImageConfig, Platform } from '../image/types.js';
import { asImageConfig } from '../image/validate-config.js';
import { selectPlatform } from '../import/select.js';
import { formatPlatform, platformMatches, platformOf } from '../image/platform.js';
import { familiarString, formatReference, withDefaultTag, type Reference } from '../reference.js';
import { digestHex, sha256, type Digest } from '../digest.js';
import type { WriteResult } from '../store/blobs.js';
import type { Store, StoredImage } from '../store/store.js';
import { blobBytes, checkingDiffId } from './blob-fetch.js';
import { rememberBlobs } from './blob-records.js';
import { recordRepoDigest } from '../store/repo-digests.js';
import { PullChanges } from './changes.js';
import { pullEndpoints, type Endpoint } from './endpoints.js';
import { throwIfAborted, withContext } from './errors.js';
import { readCapped } from './http.js';
import { allOrAbort } from './limit.js';
import { fetchManifest, type FetchedManifest } from './manifest.js';
import { childController, firstEndpoint, openSession, type Runtime } from './runtime.js';
import { noteShortNameAlias } from './short-names.js';
import type { RepoSession } from './session.js';

export const MAX_CONFIG = 4 * 1024 * 1024;
const DIFF_ID_RECORDS = 'layer-diff-ids';

export interface PullOptions {
  platform: Platform;
  signal?: AbortSignal;
  /** Tag the image in the store under the reference's familiar name (default true). */
  tag?: boolean;
}

export interface PullResult {
  image: StoredImage;
  /** What the reference resolved to in the registry: the index for a multi-platform image, else the manifest. */
  digest: Digest;
  /** The endpoint that served it: a mirror's host or the registry's. */
  source: string;
  /**
   * The pull changed the store: it wrote a blob (manifest, config or layer), or the tag
   * did not point at this image before. False when the store already had it all, tagged:
   * docker's "Image is up to date" rather than "Downloaded newer image".
   */
  updated: boolean;
}

export interface ResolveOptions {
  platform: Platform;
  signal?: AbortSignal;
  /** Use manifests already in this store (by digest) instead of fetching them. */
  store?: Store;
}

export interface Resolved {
  /** What the reference points at: an index or a manifest. */
  root: Descriptor;
  /** The image manifest for the platform (equal to `root` for a single-platform image). */
  manifest: Descriptor;
  source: string;
}

interface Chain {
  top: FetchedManifest;
  image: FetchedManifest;
  all: FetchedManifest[];
}

/** Follow a reference to the image manifest for `platform`. */
async function resolveChain(rt: Runtime, session: RepoSession, ref: Reference, platform: Platform, store: Store | undefined): Promise<Chain> {
  const name = formatReference(ref);
  const where = `${name} on ${session.name}`;
  const base = { emit: rt.emit, where, ...(store ? { store } : {}) };
  const top = await fetchManifest(session, { ...base, reference: ref.digest ?? ref.tag ?? 'latest' });
  rt.emit({ type: 'resolved', reference: name, endpoint: session.endpoint.host, digest: top.descriptor.digest, mediaType: top.descriptor.mediaType });
  const all = [top];
  let current = top;
  while (current.index) {
    if (all.length > 4) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: indexes nested more than 4 deep`);
    const entry = selectPlatform(current.index, platform, where);
    current = await fetchManifest(session, { ...base, reference: entry.digest, expected: entry, where: `${where}: manifest ${entry.digest}` });
    all.push(current);
  }
  return { top, image: current, all };
}

export async function resolveImage(rt: Runtime, reference: Reference, opts: ResolveOptions): Promise<Resolved> {
  const ref = withDefaultTag(reference);
  const name = formatReference(ref);
  try {
    noteShortNameAlias(rt, ref);
    const { value, endpoint } = await firstEndpoint(rt, await pullEndpoints(rt.config, ref.domain, { byDigest: ref.digest !== undefined }), (e) =>
      resolveChain(rt, openSession(rt, e, ref.path, [`repository:${ref.path}:pull`], opts.signal), ref, opts.platform, opts.store),
    );
    const platform = value.all.length > 1 ? value.all[value.all.length - 2]!.index!.manifests.find((m) => m.digest === value.image.descriptor.digest)?.platform : undefined;
    return { root: value.top.descriptor, manifest: { ...value.image.descriptor, ...(platform ? { platform } : {}) }, source: endpoint.host };
  } catch (err) {
    throwIfAborted(opts.signal);
    throw withContext(err, `resolve ${name}`, ref.domain, name);
  }
}

export async function pullImage(rt: Runtime, store: Store, reference: Reference, opts: PullOptions): Promise<PullResult> {
  const ref = withDefaultTag(reference);
  const name = formatReference(ref);
  const changes = new PullChanges(store);
  try {
    noteShortNameAlias(rt, ref);
    const { value, endpoint } = await firstEndpoint(rt, await pullEndpoints(rt.config, ref.domain, { byDigest: ref.digest !== undefined }), (e) => pullFrom(rt, store, ref, e, opts, changes));
    let retagged = false;
    if (opts.tag !== false) {
      const tag = familiarString(ref);
      retagged = (await store.tags.get(tag))?.digest !== value.image.manifestDescriptor.digest;
      await store.tag(value.image, tag);
    }
    await rememberBlobs(store, ref.domain, ref.path, [value.image.manifest.config.digest, ...value.image.manifest.layers.map((l) => l.digest)]);
    await recordRepoDigest(store, value.image.id, ref, value.digest);
    const updated = retagged || changes.wroteAny;
    changes.done();
    return { image: value.image, digest: value.digest, source: endpoint.host, updated };
  } catch (err) {
    await changes.rollback().catch(() => {});
    throwIfAborted(opts.signal);
    throw withContext(err, `pull ${name}`, ref.domain, name);
  }
}

async function pullFrom(rt: Runtime, store: Store, ref: Reference, endpoint: Endpoint, opts: PullOptions, changes: PullChanges): Promise<{ image: StoredImage; digest: Digest }> {
  const controller = childController(opts.signal);
  const session = openSession(rt, endpoint, ref.path, [`repository:${ref.path}:pull`], controller.signal);
  const name = formatReference(ref);
  const chain = await resolveChain(rt, session, ref, opts.platform, store);
  const manifest = chain.image.manifest!;
  const where = `${name} (manifest ${chain.image.descriptor.digest}) from ${session.name}`;
  const config = await fetchConfig(rt, store, session, manifest.config, manifest.layers.length, where, changes);
  const made = platformOf(config);
  if (chain.all.length === 1 && !platformMatches(made, opts.platform)) {
    throw new LayerstoreError('TSBUILD_IMAGE_NOT_FOUND', `${where}: the image is for ${formatPlatform(made)}, not ${opts.platform.os}/${opts.platform.architecture}`);
  }
  const diffIds = config.rootfs.diff_ids;
  const n = manifest.layers.length;
  await allOrAbort(
    rt.limiter,
    controller,
    manifest.layers.map((layer, i) => () => fetchLayer(rt, store, session, layer, diffIds[i]!, `layer ${i + 1}/${n} ${layer.digest} of ${where}`, changes, controller.signal)),
  );
  for (const m of chain.all) {
    changes.use(m.descriptor.digest);
    const res = await store.blobs.writeBytes(m.bytes, { digest: m.descriptor.digest, size: m.descriptor.size, what: `manifest ${m.descriptor.digest}` });
    if (res.created) changes.add(res.digest);
  }
  return { image: await store.loadImage(chain.image.descriptor), digest: chain.top.descriptor.digest };
}

async function fetchConfig(rt: Runtime, store: Store, session: RepoSession, desc: Descriptor, layerCount: number, where: string, changes: PullChanges): Promise<ImageConfig> {
  const what = `config ${desc.digest} of ${where}`;
  if (desc.mediaType !== MediaType.ociConfig && desc.mediaType !== MediaType.dockerConfig) {
    throw new LayerstoreError('TSBUILD_UNSUPPORTED', `${where}: not a container image (config media type ${desc.mediaType})`);
  }
  if (desc.size > MAX_CONFIG) throw session.error('TSBUILD_REGISTRY_TOO_LARGE', `${what}: ${desc.size} bytes, more than the ${MAX_CONFIG} allowed`);
  changes.use(desc.digest);
  let bytes: Buffer;
  if ((await store.blobs.size(desc.digest)) === desc.size) {
    bytes = await store.blobs.readBytes(desc, { max: MAX_CONFIG, what });
    rt.emit({ type: 'blob', digest: desc.digest, size: desc.size, kind: 'config', status: 'exists', endpoint: session.endpoint.host });
  } else {
    rt.emit({ type: 'blob', digest: desc.digest, size: desc.size, kind: 'config', status: 'fetching', endpoint: session.endpoint.host });
    const res = await session.request({ method: 'GET', url: `blobs/${desc.digest}`, what });
    await session.expect(res, [200], what, 'TSBUILD_BLOB_NOT_FOUND');
    bytes = await readCapped(res, MAX_CONFIG, what, session.endpoint.registry);
    const got = sha256(bytes);
    if (bytes.length !== desc.size) throw new IntegrityError('TSBUILD_SIZE_MISMATCH', `${what}: size mismatch: expected ${desc.size} bytes, got ${bytes.length}`, String(desc.size), String(bytes.length));
    if (got !== desc.digest) throw new IntegrityError('TSBUILD_DIGEST_MISMATCH', `${what}: digest mismatch: expected ${desc.digest}, got ${got}`, desc.digest, got);
  }
  const config = parseConfig(bytes, what);
  if (config.rootfs.diff_ids.length !== layerCount) {
    throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${what}: ${config.rootfs.diff_ids.length} diff_ids for ${layerCount} layers`);
  }
  if (!(await store.blobs.has(desc.digest))) {
    const res = await store.blobs.writeBytes(bytes, { digest: desc.digest, size: desc.size, what });
    if (res.created) changes.add(res.digest);
    rt.emit({ type: 'blob', digest: desc.digest, size: desc.size, kind: 'config', status: 'fetched', endpoint: session.endpoint.host });
  }
  return config;
}

function parseConfig(bytes: Buffer, what: string): ImageConfig {
  return asImageConfig(parseJson(bytes, what), what);
}

async function fetchLayer(rt: Runtime, store: Store, session: RepoSession, layer: Descriptor, diffId: Digest | undefined, what: string, changes: PullChanges, signal: AbortSignal): Promise<void> {
  const ev = { type: 'blob' as const, digest: layer.digest, size: layer.size, kind: 'layer' as const, endpoint: session.endpoint.host };
  if (diffId === undefined) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${what}: the config has fewer diff_ids than the manifest has layers`);
  const compression = layerCompression(layer.mediaType);
  if (compression === undefined) throw new LayerstoreError('TSBUILD_UNSUPPORTED', `${what}: media type ${layer.mediaType} is not a layer tsbuild can unpack`);
  if (layer.urls?.length) rt.emit({ type: 'warning', message: `${what}: foreign layer URLs are not fetched (${layer.urls.length} listed); fetching the blob from ${session.name}` });
  if (compression === 'none' && layer.digest !== diffId) {
    throw new IntegrityError('TSBUILD_DIGEST_MISMATCH', `${what}: uncompressed layer whose digest differs from the config's diff_id ${diffId}`, diffId, layer.digest);
  }
  changes.use(layer.digest);
  if ((await store.blobs.size(layer.digest)) === layer.size) {
    rt.emit({ ...ev, status: 'exists' });
    if (compression !== 'none') await checkStoredDiffId(store, layer, compression, diffId, what);
    return;
  }
  rt.emit({ ...ev, status: 'fetching' });
  const bytes = blobBytes({ session, desc: layer, what, emit: rt.emit, retry: rt.retry, signal });
  const check = compression === 'none' ? undefined : checkingDiffId(bytes, compression, diffId, what);
  let res: WriteResult;
  try {
    res = await store.blobs.write(check?.stream ?? bytes, { digest: layer.digest, size: layer.size, what });
  } catch (err) {
    throwIfAborted(signal);
    throw err;
  }
  if (res.created) changes.add(res.digest);
  const corrupt = check?.corrupt();
  if (corrupt) throw corrupt;
  if (compression !== 'none') await store.records(DIFF_ID_RECORDS).put(digestHex(layer.digest), { digest: layer.digest, diffId });
  rt.emit({ ...ev, status: 'fetched' });
}

/** A compressed layer already in the store: check its diff_id once (then remembered). */
async function checkStoredDiffId(store: Store, layer: Descriptor, compression: 'gzip' | 'zstd', diffId: Digest, what: string): Promise<void> {
  const key = digestHex(layer.digest);
  const known = await store.records<{ diffId?: string }>(DIFF_ID_RECORDS).get(key);
  if (known?.diffId === diffId) return;
  const check = checkingDiffId(await store.blobs.open(layer, what), compression, diffId, what);
  for await (const chunk of check.stream) void chunk;
  const corrupt = check.corrupt();
  if (corrupt) throw corrupt;
  await store.records(DIFF_ID_RECORDS).put(key, { digest: layer.digest, diffId });
}
