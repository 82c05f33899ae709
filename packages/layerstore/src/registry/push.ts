/**
 * Push: an image from the store to `registry/repo:tag` (or `@digest`).
 *
 *   1. the image in the form pushed (imageAs): media types of one family (`format`, default
 *      the image's own), every layer in `compression` when given, else (when some layer is
 *      kept uncompressed in the store) gzip; an image already in that form is pushed as
 *      it is, so a pulled image keeps its digests.
 *   2. each blob (config first, to settle authentication; then the layers, in parallel):
 *      HEAD -> present: skip; else, if the store's records (blob-records.ts) know another
 *      repository of this registry holding it, POST ?mount=&from= -> 201 mounted; else POST
 *      an upload and send it whole (PUT ?digest= with the body, up to 1 MiB) or streamed in
 *      chunks (PATCH with Content-Range, chunkSize each, then PUT ?digest=). The bytes come
 *      from a verified store reader, never buffered whole. A failed upload starts again
 *      from a new upload session (never resumed mid-way).
 *   3. PUT the manifest bytes unchanged (by tag, or by digest), with its media type, and
 *      record the repository digest (`localhost:5000/app@sha256:...`) for RepoDigests.
 */
import { Readable } from 'node:stream';
import { type Digest } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { imageAs } from '../export/image-as.js';
import { layerCompression, type Compression, type ManifestFormat } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import { formatReference, withDefaultTag, type Reference } from '../reference.js';
import type { Store, StoredImage } from '../store/store.js';
import { rememberBlobs, reposHolding } from './blob-records.js';
import { recordRepoDigest } from '../store/repo-digests.js';
import { pushEndpoint } from './endpoints.js';
import { isAbort, RegistryError, throwIfAborted, withContext } from './errors.js';
import { discard, errorText, isTransientNetworkError } from './http.js';
import { allOrAbort } from './limit.js';
import { MAX_MANIFEST } from './manifest.js';
import { checkRedirect } from './net-policy.js';
import { backoff, wait } from './retry.js';
import { childController, openSession, type Runtime } from './runtime.js';
import type { RepoSession, SessionResponse } from './session.js';

export interface PushOptions {
  signal?: AbortSignal;
  /** PATCH chunk size (default 64 MiB); blobs up to min(this, 1 MiB) go up in a single PUT. */
  chunkSize?: number;
  /** Every layer in this compression (default: as they are, uncompressed ones gzip). */
  compression?: Compression;
  level?: number;
  /** Media-type family of the pushed manifest (default: the image's own). */
  format?: ManifestFormat;
}

export interface PushResult {
  /** The manifest digest in the registry. */
  digest: Digest;
  size: number;
  mediaType: string;
  /** The image as pushed (layers compressed). */
  image: StoredImage;
}

const MiB = 1024 * 1024;
const MAX_MOUNT_SOURCES = 3;
/** Blobs up to this size go up in one PUT (one round trip less); larger ones are streamed in PATCHes. */
const MONOLITHIC_MAX = 1024 * 1024;

export async function pushImage(rt: Runtime, store: Store, image: StoredImage, reference: Reference, opts: PushOptions = {}): Promise<PushResult> {
  const ref = withDefaultTag(reference);
  const name = formatReference(ref);
  try {
    const chunkSize = opts.chunkSize ?? rt.chunkSize;
    // The caller's bug, never a user's failure (no flag sets it).
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
    const uncompressed = image.manifest.layers.some((l) => layerCompression(l.mediaType) === 'none');
    const compression = opts.compression ?? (uncompressed ? 'gzip' : undefined);
    const img = await imageAs(store, image, { ...(opts.format ? { format: opts.format } : {}), ...(compression ? { compression } : {}), ...(opts.level !== undefined ? { level: opts.level } : {}) });
    const digest = img.manifestDescriptor.digest;
    if (ref.digest !== undefined && ref.digest !== digest) {
      throw new LayerstoreError('TSBUILD_DIGEST_MISMATCH', `the image's manifest is ${digest}, not ${ref.digest}`);
    }
    const manifestBytes = await store.blobs.readBytes(img.manifestDescriptor, { max: MAX_MANIFEST, what: `manifest ${digest}` });
    const mediaType = img.manifest.mediaType ?? img.manifestDescriptor.mediaType;
    const endpoint = await pushEndpoint(rt.config, ref.domain);
    const blobs = uniqueBlobs([{ ...img.manifest.config, kind: 'config' as const }, ...img.manifest.layers.map((l) => ({ ...l, kind: 'layer' as const }))]);
    const sources = new Map<Digest, string[]>();
    for (const b of blobs) sources.set(b.digest, (await reposHolding(store, endpoint.registry, b.digest)).filter((r) => r !== ref.path).slice(0, MAX_MOUNT_SOURCES));
    const mountRepos = [...new Set([...sources.values()].flat())].slice(0, 10);
    const scopes = [`repository:${ref.path}:pull,push`, ...mountRepos.map((r) => `repository:${r}:pull`)];
    const controller = childController(opts.signal);
    const session = openSession(rt, endpoint, ref.path, scopes, controller.signal);
    const push = (b: (typeof blobs)[number]) => pushBlob(rt, store, session, b, b.kind, (sources.get(b.digest) ?? []).filter((r) => mountRepos.includes(r)), chunkSize, controller.signal);
    await push(blobs[0]!);
    await allOrAbort(rt.limiter, controller, blobs.slice(1).map((b) => () => push(b)));
    const target = ref.tag ?? digest;
    const what = `manifest ${target}`;
    const res = await session.request({ method: 'PUT', url: `manifests/${target}`, headers: { 'Content-Type': mediaType }, body: () => manifestBytes, what });
    await session.expect(res, [200, 201], what);
    const claimed = res.headers['docker-content-digest'];
    discard(res);
    if (typeof claimed === 'string' && claimed !== digest) rt.emit({ type: 'warning', message: `push ${name}: ${session.name} reports the manifest as ${claimed.slice(0, 80)}, but its digest is ${digest}` });
    await rememberBlobs(store, endpoint.registry, ref.path, blobs.map((b) => b.digest));
    await recordRepoDigest(store, img.id, ref, digest);
    rt.emit({ type: 'pushed', reference: name, digest, size: manifestBytes.length });
    return { digest, size: manifestBytes.length, mediaType, image: img };
  } catch (err) {
    throwIfAborted(opts.signal);
    throw withContext(err, `push ${name}`, ref.domain, name);
  }
}

function uniqueBlobs<T extends Descriptor>(list: T[]): T[] {
  const seen = new Set<Digest>();
  return list.filter((d) => !seen.has(d.digest) && seen.add(d.digest));
}

async function pushBlob(rt: Runtime, store: Store, session: RepoSession, desc: Descriptor, kind: 'config' | 'layer', sources: string[], chunkSize: number, signal: AbortSignal): Promise<void> {
  const what = `${kind} ${desc.digest}`;
  const ev = { type: 'blob' as const, digest: desc.digest, size: desc.size, kind, endpoint: session.endpoint.host };
  const head = await session.request({ method: 'HEAD', url: `blobs/${desc.digest}`, what });
  head.body.resume();
  if (head.status === 200) {
    rt.emit({ ...ev, status: 'exists' });
    return;
  }
  await session.expect(head, [404], what);
  for (let attempt = 1; ; attempt++) {
    let location: URL | undefined;
    for (const from of sources) {
      let res: SessionResponse;
      try {
        res = await session.request({ method: 'POST', url: `blobs/uploads/?mount=${desc.digest}&from=${encodeURIComponent(from)}`, what: `mount of ${what} from ${from}` });
      } catch (err) {
        // No access to the source repository (or it is gone): a mount is only ever a shortcut.
        if (isAbort(err) || signal.aborted || !(err instanceof RegistryError) || err.code === 'TSBUILD_REGISTRY_UNSAFE') throw err;
        continue;
      }
      if (res.status === 201) {
        discard(res);
        rt.emit({ ...ev, status: 'mounted' });
        return;
      }
      if (res.status === 202) {
        location = uploadLocation(session, res, what);
        discard(res);
        break;
      }
      await errorText(res);
    }
    if (location === undefined) {
      const res = await session.request({ method: 'POST', url: 'blobs/uploads/', what: `upload of ${what}` });
      await session.expect(res, [202], `upload of ${what}`);
      location = uploadLocation(session, res, what);
      discard(res);
    }
    rt.emit({ ...ev, status: 'uploading' });
    try {
      if (desc.size <= Math.min(chunkSize, MONOLITHIC_MAX)) await uploadWhole(rt, store, session, desc, location, what);
      else await uploadChunks(rt, store, session, desc, location, chunkSize, what);
      rt.emit({ ...ev, status: 'uploaded' });
      return;
    } catch (err) {
      if (isAbort(err) || signal.aborted || attempt >= rt.retry.attempts || !isRetriableUpload(err)) throw err;
      const delay = backoff(rt.retry, attempt);
      rt.emit({ type: 'retry', endpoint: session.endpoint.host, what: `upload of ${what}`, attempt, delayMs: delay, reason: (err as Error).message });
      await wait(delay, signal);
    }
  }
}

function isRetriableUpload(err: unknown): boolean {
  return isTransientNetworkError(err) || (err instanceof RegistryError && err.code === 'TSBUILD_REGISTRY_UNAVAILABLE');
}

/** The upload URL from a 202: relative to the request, same rules as a redirect (no SSRF). */
function uploadLocation(session: RepoSession, res: SessionResponse, what: string): URL {
  const loc = res.headers.location;
  if (!loc) throw session.error('TSBUILD_REGISTRY_ERROR', `${what}: ${session.name} started an upload without a Location`);
  let url: URL;
  try {
    url = new URL(loc, res.url);
  } catch {
    throw session.error('TSBUILD_REGISTRY_ERROR', `${what}: ${session.name} gave an invalid upload Location`);
  }
  checkRedirect(session.base(), res.url, url, session.endpoint.registry);
  return url;
}

async function uploadWhole(rt: Runtime, store: Store, session: RepoSession, desc: Descriptor, location: URL, what: string): Promise<void> {
  const url = new URL(location);
  url.searchParams.set('digest', desc.digest);
  const res = await session.request({
    method: 'PUT',
    url,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(desc.size) },
    body: async () => Readable.from(counting(rt, desc, await store.blobs.open(desc, what))),
    what: `upload of ${what}`,
    retry: false,
  });
  await session.expect(res, [201], `upload of ${what}`);
  discard(res);
}

/**
 * PATCH the blob in slices of `chunkSize` (each streamed from the verified store reader,
 * never buffered whole), then PUT ?digest= with no body. Streaming PATCHes let the
 * registry hash as it writes (distribution re-reads a monolithic PUT body to verify it).
 */
async function uploadChunks(rt: Runtime, store: Store, session: RepoSession, desc: Descriptor, location: URL, chunkSize: number, what: string): Promise<void> {
  const source = await store.blobs.open(desc, what);
  const slicer = new Slicer(counting(rt, desc, source));
  try {
    let url = location;
    for (let offset = 0; offset < desc.size; ) {
      const length = Math.min(chunkSize, desc.size - offset);
      const end = offset + length - 1;
      const res = await session.request({
        method: 'PATCH',
        url,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end}`, 'Content-Length': String(length) },
        body: once(() => Readable.from(slicer.take(length)), () => session.error('TSBUILD_REGISTRY_UNAVAILABLE', `chunk ${offset}-${end} of ${what}: cannot be sent twice; starting the upload again`)),
        what: `chunk ${offset}-${end} of ${what}`,
        retry: false,
      });
      await session.expect(res, [202], `chunk ${offset}-${end} of ${what}`);
      url = uploadLocation(session, res, what);
      discard(res);
      offset = end + 1;
    }
    // The reader checks size and digest at its end: a corrupt local blob is never committed.
    await slicer.end();
    const done = new URL(url);
    done.searchParams.set('digest', desc.digest);
    const res = await session.request({ method: 'PUT', url: done, what: `upload of ${what}`, retry: false });
    await session.expect(res, [201], `upload of ${what}`);
    discard(res);
  } finally {
    source.destroy();
  }
}

/** A body factory that can be used once (a streamed slice); a second call (auth retry) restarts the upload. */
function once<T>(make: () => T, again: () => Error): () => T {
  let used = false;
  return () => {
    if (used) throw again();
    used = true;
    return make();
  };
}

/** Cuts one stream into consecutive slices of given lengths. */
class Slicer {
  private readonly it: AsyncIterator<Buffer>;
  private rest: Buffer | undefined;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  async *take(n: number): AsyncGenerator<Buffer> {
    for (let left = n; left > 0; ) {
      let chunk = this.rest;
      this.rest = undefined;
      if (chunk === undefined) {
        const r = await this.it.next();
        if (r.done) throw new LayerstoreError('TSBUILD_SIZE_MISMATCH', `blob ended ${left} bytes early`);
        chunk = r.value;
      }
      if (chunk.length > left) {
        this.rest = chunk.subarray(left);
        chunk = chunk.subarray(0, left);
      }
      left -= chunk.length;
      yield chunk;
    }
  }

  async end(): Promise<void> {
    if (this.rest?.length || !(await this.it.next()).done) throw new LayerstoreError('TSBUILD_SIZE_MISMATCH', 'blob is longer than its descriptor');
  }
}

async function* counting(rt: Runtime, desc: Descriptor, source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let done = 0;
  let reported = 0;
  for await (const chunk of source) {
    done += chunk.length;
    if (done - reported >= MiB || done === desc.size) {
      reported = done;
      rt.emit({ type: 'progress', digest: desc.digest, size: desc.size, done });
    }
    yield chunk;
  }
}
