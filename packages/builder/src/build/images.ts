/**
 * Where images named in FROM, COPY --from and `tsbuild run` come from:
 *   oci-archive:FILE[:NAME], oci-layout://DIR[:NAME], oci:DIR[:NAME],
 *   docker-archive:FILE[:NAME]       imported into the store (verified)
 *   an image ID, or a name in the store  used as it is (unless --pull)
 *   any other reference               pulled from its registry (through mirrors), tagged
 *                                     in the store like `docker pull` does
 * Also answers what the base was, for the org.opencontainers.image.base.* annotations.
 */
import { open, stat } from 'node:fs/promises';
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
import { hostPlatform } from './state.js';

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

const ARCHIVE_PREFIXES = /^(oci-archive:|oci-layout:\/\/|oci:|docker-archive:)/;

/** A local archive or layout reference (never the network). */
export async function importLocalImage(store: Store, name: string, platform: Platform = hostPlatform()): Promise<StoredImage | undefined> {
  const archive = /^oci-archive:(.+?)(?::([^:/]+))?$/.exec(name);
  if (archive) return importOciArchive(store, archive[1]!, { platform, ...(archive[2] ? { name: archive[2] } : {}) });
  const layout = /^(?:oci-layout:\/\/|oci:)(.+?)(?::([^:/]+))?$/.exec(name);
  if (layout) return importOciLayout(store, layout[1]!, { platform, ...(layout[2] ? { name: layout[2] } : {}) });
  if (name.startsWith('docker-archive:')) {
    // FILE[:NAME] (NAME may hold a colon: `busybox:latest`, or `@N`): a whole that is a file wins, else split at the first colon.
    const rest = name.slice('docker-archive:'.length);
    const whole = await stat(rest).then((s) => s.isFile(), () => false);
    const colon = rest.indexOf(':');
    const file = whole || colon === -1 ? rest : rest.slice(0, colon);
    const pick = whole || colon === -1 ? {} : { name: rest.slice(colon + 1) };
    const fh = await open(file, 'r').catch((err) => {
      throw ioError(`docker-archive ${file}`, err);
    });
    try {
      const loaded = await importDockerArchive(store, fh.createReadStream({ highWaterMark: 1 << 20 }), { where: `docker-archive ${file}`, platform, tag: false, pick });
      return loaded.images[0]!.image;
    } finally {
      await fh.close().catch(() => {});
    }
  }
  return undefined;
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
  if (ARCHIVE_PREFIXES.test(name)) {
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
