/**
 * Manifests and indexes from a registry: fetched whole (at most 4 MiB, refused while
 * reading), digested, and checked before anything is believed (the OCI image and distribution specs; containers/image's read caps):
 *
 * - by digest: the body must hash to the digest asked for (and match the size an index gave);
 * - `Docker-Content-Digest` is never taken as the digest: it is compared with the body's,
 *   and a mismatch on a tag is reported as a warning (registries get it wrong; ggcr ignores it);
 * - media types: the document's `mediaType` must equal `Content-Type` when both are given,
 *   must be one of the four manifest/index types (a config or layer served as a manifest is
 *   refused), and must equal what the parent index said;
 * - structure: a manifest has `config` and `layers` and no `manifests`, an index the reverse
 *   (ambiguous documents, CVE-2021-41190, are refused); every descriptor has a strict digest
 *   and a non-negative safe-integer size (image/validate.ts checks the shape).
 */
import { isDigest, parseDigest, sha256, type Digest } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { MediaType } from '../image/media-types.js';
import { isJsonObject, parseJson } from '../image/json.js';
import type { Descriptor, Index, Manifest } from '../image/types.js';
import { asIndex, asManifest } from '../image/validate.js';
import type { Store } from '../store/store.js';
import type { EventSink } from './events.js';
import { readCapped } from './http.js';
import { RETRY_STATUSES } from './retry.js';
import type { RepoSession } from './session.js';

export const MAX_MANIFEST = 4 * 1024 * 1024;
export { MAX_BLOB_SIZE } from '../image/validate.js';

export const MANIFEST_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList];
export const ACCEPT = MANIFEST_TYPES.join(', ');
const INDEX_TYPES = new Set<string>([MediaType.ociIndex, MediaType.dockerManifestList]);
/** Content-Types that say nothing about the document; the body decides. */
const GENERIC_TYPES = new Set(['', 'application/json', 'application/octet-stream', 'text/plain']);

export interface FetchedManifest {
  bytes: Buffer;
  descriptor: Descriptor;
  index?: Index;
  manifest?: Manifest;
}

/** Validate a manifest or index document; `where` names it in errors. */
export function parseManifest(bytes: Buffer, contentType: string | undefined, where: string, expected?: Pick<Descriptor, 'mediaType'>): FetchedManifest {
  const bad = (why: string) => new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: ${why}`);
  const header = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!GENERIC_TYPES.has(header) && !MANIFEST_TYPES.includes(header)) throw bad(`served as ${header}, which is not a manifest or index media type`);
  const doc = parseJson(bytes, where);
  if (!isJsonObject(doc)) throw bad('not a JSON object');
  if (doc.schemaVersion === 1) throw new LayerstoreError('TSBUILD_UNSUPPORTED', `${where}: Docker schema 1 manifests are not supported`);
  if (doc.schemaVersion !== 2) throw bad(`schemaVersion ${JSON.stringify(doc.schemaVersion)}, want 2`);
  const declared = doc.mediaType;
  if (declared !== undefined && typeof declared !== 'string') throw bad('mediaType is not a string');
  if (declared !== undefined && !GENERIC_TYPES.has(header) && declared !== header) {
    throw bad(`Content-Type ${header} does not match the document's mediaType ${declared}`);
  }
  const hasManifests = 'manifests' in doc;
  const hasImageFields = 'config' in doc || 'layers' in doc;
  if (hasManifests && hasImageFields) throw bad('ambiguous document: both "manifests" and "config"/"layers"');
  const mediaType = declared ?? (MANIFEST_TYPES.includes(header) ? header : expected?.mediaType ?? (hasManifests ? MediaType.ociIndex : MediaType.ociManifest));
  if (!MANIFEST_TYPES.includes(mediaType)) throw bad(`media type ${mediaType} is not a manifest or index`);
  if (expected?.mediaType !== undefined && MANIFEST_TYPES.includes(expected.mediaType) && expected.mediaType !== mediaType) {
    throw bad(`the index describes it as ${expected.mediaType} but it is ${mediaType}`);
  }
  const descriptor: Descriptor = { mediaType, digest: sha256(bytes), size: bytes.length };
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests) || hasImageFields) throw bad('an index needs "manifests" and no "config"/"layers"');
    return { bytes, descriptor, index: asIndex(doc, where, bad) };
  }
  if (hasManifests || typeof doc.config !== 'object' || !Array.isArray(doc.layers)) throw bad('an image manifest needs "config" and "layers" and no "manifests"');
  return { bytes, descriptor, manifest: asManifest(doc, where, bad) };
}

export interface FetchManifestOptions {
  /** A tag or a digest. */
  reference: string;
  /** What an index said about it (digest-addressed children). */
  expected?: Descriptor;
  /** Look in the store first (by digest, or by the digest a HEAD reports for a tag). */
  store?: Store;
  emit: EventSink;
  where: string;
}

/** Fetch (or find in the store) a manifest or index and check it. */
export async function fetchManifest(session: RepoSession, opts: FetchManifestOptions): Promise<FetchedManifest> {
  const byDigest = isDigest(opts.reference) ? parseDigest(opts.reference) : undefined;
  const what = `manifest ${opts.reference}`;
  if (opts.store) {
    const known = byDigest !== undefined ? { digest: byDigest, contentType: undefined } : await headDigest(session, opts.reference, what);
    if (known !== undefined && (await opts.store.blobs.has(known.digest))) {
      const bytes = await opts.store.blobs.readBytes({ digest: known.digest }, { max: MAX_MANIFEST, what });
      try {
        const found = parseManifest(bytes, known.contentType, opts.where, opts.expected);
        checkExpected(found, opts, byDigest);
        return found;
      } catch (err) {
        // What a HEAD pointed at in our store is not this manifest after all: fetch it.
        if (byDigest !== undefined) throw err;
      }
    }
  }
  const res = await session.request({ method: 'GET', url: `manifests/${opts.reference}`, headers: { Accept: ACCEPT }, what });
  await session.expect(res, [200], what, 'TSBUILD_IMAGE_NOT_FOUND');
  const bytes = await readCapped(res, MAX_MANIFEST, what, session.endpoint.registry);
  const found = parseManifest(bytes, header(res.headers['content-type']), opts.where, opts.expected);
  checkExpected(found, opts, byDigest);
  const claimed = header(res.headers['docker-content-digest']);
  if (claimed !== undefined && claimed !== found.descriptor.digest) {
    opts.emit({ type: 'warning', message: `${opts.where}: ${session.name} sent Docker-Content-Digest ${claimed.slice(0, 80)} but the manifest's digest is ${found.descriptor.digest}; using the latter` });
  }
  return found;
}

function checkExpected(found: FetchedManifest, opts: FetchManifestOptions, byDigest: Digest | undefined): void {
  const got = found.descriptor;
  if (byDigest !== undefined && got.digest !== byDigest) {
    throw new LayerstoreError('TSBUILD_DIGEST_MISMATCH', `${opts.where}: manifest digest mismatch: asked for ${byDigest}, got ${got.digest}`);
  }
  if (opts.expected && got.size !== opts.expected.size) {
    throw new LayerstoreError('TSBUILD_SIZE_MISMATCH', `${opts.where}: manifest size mismatch: the index says ${opts.expected.size} bytes, got ${got.size}`);
  }
}

/** HEAD a tag: the digest the registry claims, to be checked against our store's bytes. */
async function headDigest(session: RepoSession, tag: string, what: string): Promise<{ digest: Digest; contentType: string | undefined } | undefined> {
  const res = await session.request({ method: 'HEAD', url: `manifests/${tag}`, headers: { Accept: ACCEPT }, what });
  // Unavailable even after the retries: no point in a GET. Anything else: let the GET tell.
  if (RETRY_STATUSES.has(res.status)) await session.expect(res, [200], what);
  res.body.resume();
  if (res.status !== 200) return undefined;
  const digest = header(res.headers['docker-content-digest']);
  return isDigest(digest) ? { digest, contentType: header(res.headers['content-type']) } : undefined;
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
