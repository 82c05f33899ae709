/**
 * Where images named in FROM, COPY --from and `tsbuild run` come from:
 *   oci-archive:FILE[:NAME], oci-layout://DIR[:NAME], oci:DIR[:NAME],
 *   docker-archive:FILE[:NAME]       imported into the store (verified); split as
 *                                     containers/image does (local-ref.ts)
 *   an image ID, or a name in the store  used as it is (unless --pull)
 *   any other reference               pulled from its registry (through mirrors), tagged
 *                                     in the store like `docker pull` does
 * Also answers what the base was, for the org.opencontainers.image.base.* annotations.
 */
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import {
  formatReference,
  importDockerArchive,
  importOciArchive,
  importOciLayout,
  ioError,
  parseReference,
  withDefaultTag,
  NotFoundError,
  type Digest,
  type Platform,
  type RegistryClient,
  type Store,
  type StoredImage,
} from '@tsbuild/layerstore';
import { hostPlatform } from '../plan/platform.js';
import { isLocalRef, parseLocalRef } from './local-ref.js';

export interface ImageSourceOptions {
  store: Store;
  platform?: Platform;
  /** Ask the registry what a tag points at now, even when the store has it (--pull). */
  pull?: boolean;
  /** The registry client, created on first use; without one, only local images are found. */
  registry?: () => RegistryClient;
  signal?: AbortSignal;
}

export interface ResolvedImage {
  image: StoredImage;
  /** For the base-image annotations: the full reference and the digest it resolved to. */
  base: { name: string; digest: Digest };
}

/** A local archive or layout reference (never the network); undefined for any other reference. */
export async function importLocalImage(store: Store, name: string, platform: Platform = hostPlatform()): Promise<StoredImage | undefined> {
  const ref = parseLocalRef(name);
  if (!ref) return undefined;
  const pick = ref.name !== undefined ? { name: ref.name } : {};
  if (ref.transport === 'oci-archive') return importOciArchive(store, ref.path, { platform, ...pick });
  if (ref.transport === 'oci') return importOciLayout(store, ref.path, { platform, ...pick });
  const fh = await open(ref.path, 'r').catch((err) => {
    throw ioError(`docker-archive ${ref.path}`, err);
  });
  try {
    const loaded = await importDockerArchive(store, fh.createReadStream({ highWaterMark: 1 << 20 }), { where: `docker-archive ${ref.path}`, platform, tag: false, pick });
    return loaded.images[0]!.image;
  } finally {
    await fh.close().catch(() => {});
  }
}

/** Local only: archives, layouts, store tags and IDs (for save). */
export async function resolveImageRef(store: Store, name: string): Promise<StoredImage> {
  return (await importLocalImage(store, name)) ?? store.resolveImage(name);
}

interface PulledRecord {
  manifest: Digest;
  digest: Digest;
}

function pulledKey(fullName: string): string {
  return createHash('sha256').update(fullName).digest('hex');
}

export async function resolveImage(name: string, opts: ImageSourceOptions): Promise<ResolvedImage> {
  const { store } = opts;
  const platform = opts.platform ?? hostPlatform();
  if (isLocalRef(name)) {
    const image = (await importLocalImage(store, name, platform))!;
    return { image, base: { name, digest: image.manifestDescriptor.digest } };
  }
  let ref;
  try {
    ref = withDefaultTag(parseReference(name));
  } catch {
    // An image ID (or a prefix of one): the store only.
    const image = await store.resolveImage(name);
    return { image, base: { name, digest: image.manifestDescriptor.digest } };
  }
  const fullName = formatReference(ref);
  if (!opts.pull || ref.digest !== undefined) {
    const local = await store.resolveImage(name).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (local) {
      const rec = await store.readRecord<PulledRecord>('pulled', pulledKey(fullName));
      const digest = rec && rec.manifest === local.manifestDescriptor.digest ? rec.digest : local.manifestDescriptor.digest;
      return { image: local, base: { name: fullName, digest } };
    }
  }
  if (!opts.registry) {
    throw new NotFoundError('TSBUILD_IMAGE_NOT_FOUND', `image ${JSON.stringify(name)} not found in the local store at ${store.root}`);
  }
  const pulled = await opts.registry().pull(store, ref, { platform, ...(opts.signal ? { signal: opts.signal } : {}) });
  await store.writeRecord('pulled', pulledKey(fullName), { manifest: pulled.image.manifestDescriptor.digest, digest: pulled.digest } satisfies PulledRecord);
  return { image: pulled.image, base: { name: fullName, digest: pulled.digest } };
}
