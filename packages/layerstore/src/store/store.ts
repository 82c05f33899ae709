/**
 * The local store: an OCI image layout (`oci-layout`, `index.json`, `blobs/`) plus
 * private folders beside it (`ingest/`, `snapshots/`, `cache/`, `locks/`, `tmp/`).
 * Any number of tsbuild processes may open one store.
 *
 * Store joins parts that each have an interface of their own, a conformance suite and,
 * where callers' tests need one, an in-memory fake in ./testing:
 *   blobs      ContentStore (content.ts): stat, read (verified), write (a transaction), delete
 *   tags       TagStore (tag-store.ts): names and unnamed images in index.json
 *   snapshots  Snapshots (snapshots.ts): unpacked layers, prepared then committed
 *   records()  RecordStore per kind (records.ts), whose owners register their GC roots
 *   lease      what this process relies on, so a concurrent prune keeps it (lease.ts)
 * Its own methods are the image verbs over those parts (put, load, tag and resolve an
 * image; what tags and records reach) and its lifecycle (open, recover, close). That is
 * more than seven methods on purpose: they are the one place where an image is more
 * than a blob, and callers reach the parts through the fields above for anything else.
 */
import type { OverlayForm } from '../layer/whiteout.js';
import { overlayFormOfThisProcess, whiteoutFormIn } from './overlay-form.js';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, isDigest, type Digest } from '../digest.js';
import { LayerstoreError, NotFoundError, ioError } from '../errors.js';
import { MediaType, type ManifestFormat } from '../image/media-types.js';
import { platformOf } from '../image/platform.js';
import { manifestIn, mixedMediaTypes } from '../image/form.js';
import type { Descriptor, ImageConfig, Manifest } from '../image/types.js';
import { canonicalConfig } from '../image/canonical.js';
import { asIndex, asManifest } from '../image/validate.js';
import { asImageConfig } from '../image/validate-config.js';
import { familiarString, parseReference, withDefaultTag } from '../reference.js';
import { BlobStore } from './blobs.js';
import { pidAlive, writeFileAtomic } from './fsutil.js';
import { defaultStoreRoot } from './root.js';
import { chainIds, Snapshots } from './snapshots.js';
import { Lease, liveLeases } from './lease.js';
import { TagIndex } from './tags.js';
import { FsRecordStore, isHoldingRecord, readRecordFile, registeredKinds, type HoldingRecord, type RecordKind, type RecordStore } from './records.js';
import { imagesById } from './by-image.js';

/** An image whose manifest and config are in the store. */
export interface StoredImage {
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  /** The image ID, as docker shows it: the config digest. */
  id: Digest;
}

export interface ImageListing {
  /** The image through the manifest of its first name (any manifest when it has none). */
  image: StoredImage;
  /** Every name whose manifest has this image's config. */
  tags: string[];
  /** Every manifest of this image the store names or keeps. */
  manifests: Descriptor[];
}

export class Store {
  readonly blobs: BlobStore;
  readonly tags: TagIndex;
  readonly snapshots: Snapshots;
  readonly locksDir: string;
  readonly tmpDir: string;
  readonly cacheDir: string;
  readonly leasesDir: string;
  /** This process's claims on blobs and snapshots (see lease.ts); released by close(). */
  readonly lease: Lease;

  private constructor(
    readonly root: string,
    /** The overlay form of this store's snapshots (layer/whiteout.ts, store/overlay-form.ts). */
    readonly overlayForm: OverlayForm,
  ) {
    this.blobs = new BlobStore(root);
    this.locksDir = join(root, 'locks');
    this.tmpDir = join(root, 'tmp');
    this.cacheDir = join(root, 'cache');
    this.tags = new TagIndex(root, this.locksDir);
    this.snapshots = new Snapshots(root);
    this.leasesDir = join(root, 'leases');
    this.lease = new Lease(this.leasesDir, this.locksDir);
    this.blobs.claim = (d) => this.lease.claim([d]);
    this.snapshots.claim = (c) => this.lease.claim([], [c]);
  }

  /** Release this process's lease (what it used becomes prunable unless a tag reaches it). */
  async close(): Promise<void> {
    await this.lease.release();
  }

  /** Open (creating if needed) the store at `root`, and clean what crashed writers left. */
  static async open(root: string = defaultStoreRoot(), opts: { overlayForm?: Partial<OverlayForm> } = {}): Promise<Store> {
    const tmpDir = join(root, 'tmp');
    let form: OverlayForm;
    try {
      await mkdir(root, { recursive: true, mode: 0o711 });
      await mkdir(tmpDir, { recursive: true });
      form = { opaque: opts.overlayForm?.opaque ?? overlayFormOfThisProcess(), whiteout: opts.overlayForm?.whiteout ?? whiteoutFormIn(tmpDir) };
    } catch (err) {
      if (err instanceof LayerstoreError) throw err;
      throw ioError(`open store at ${root}`, err);
    }
    const store = new Store(root, form);
    try {
      await store.blobs.init();
      await store.snapshots.init();
      await mkdir(store.locksDir, { recursive: true });
      await mkdir(store.cacheDir, { recursive: true });
      const layoutFile = join(root, 'oci-layout');
      const layout = await readFile(layoutFile, 'utf8').catch(() => undefined);
      if (layout === undefined) await writeFileAtomic(layoutFile, '{"imageLayoutVersion":"1.0.0"}');
      const index = await readFile(store.tags.path, 'utf8').catch(() => undefined);
      if (index === undefined) await store.tags.read().then((i) => writeFileAtomic(store.tags.path, `${JSON.stringify(i, null, 2)}\n`));
    } catch (err) {
      if (err instanceof LayerstoreError) throw err;
      throw ioError(`open store at ${root}`, err);
    }
    await store.recover();
    return store;
  }

  /** Remove leftovers of dead processes: ingest files, unfinished snapshots, temp dirs. */
  async recover(): Promise<void> {
    const dead = (name: string) => {
      const m = /^(?:\.new-|\.del-|\.tmp-)?(\d+)-/.exec(name);
      return m !== null && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]));
    };
    const cacheKinds = (await readdir(this.cacheDir).catch(() => [] as string[])).map((k) => join(this.cacheDir, k));
    for (const dir of [this.blobs.ingestDir, this.snapshots.dir, this.tmpDir, this.root, this.blobs.dir, ...cacheKinds]) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (!isDigest(`sha256:${name}`) && dead(name)) await rm(join(dir, name), { recursive: true, force: true });
      }
    }
    await liveLeases(this.leasesDir); // drops the leases of dead processes
  }

  /**
   * Write config and manifest for layers already in the store; returns the image. The
   * manifest uses the media types of `format` only (default OCI), whatever family the
   * layer descriptors came with (a base pulled with Docker types, say).
   */
  async putImage(config: ImageConfig, layers: Descriptor[], annotations?: Record<string, string>, opts: { format?: ManifestFormat } = {}): Promise<StoredImage> {
    const configBytes = Buffer.from(JSON.stringify(canonicalConfig(config)));
    const cfg = await this.blobs.writeBytes(configBytes);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
      layers,
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
    };
    return this.putManifest(manifestIn(manifest, opts.format ?? 'oci'), JSON.parse(configBytes.toString()) as ImageConfig);
  }

  /** Write a manifest whose config (`config`, when the caller has it) and layers are in the store. */
  async putManifest(manifest: Manifest, config?: ImageConfig): Promise<StoredImage> {
    const bad = mixedMediaTypes(manifest);
    if (bad !== undefined) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `refusing to write a ${manifest.mediaType} manifest with ${bad}`);
    const m = await this.blobs.writeBytes(Buffer.from(JSON.stringify(manifest)));
    return {
      manifestDescriptor: { mediaType: manifest.mediaType!, digest: m.digest, size: m.size },
      manifest,
      config: config ?? asImageConfig(await this.blobs.readJson(manifest.config, `config ${manifest.config.digest}`), `config ${manifest.config.digest}`),
      id: manifest.config.digest,
    };
  }

  /** Keep an image that has no name (docker's `<none>`), findable by its ID until prune. */
  async recordUnnamed(image: StoredImage, opts: { replacing?: StoredImage } = {}): Promise<void> {
    await this.tags.addUnnamed(
      { ...image.manifestDescriptor, platform: platformOf(image.config) },
      opts.replacing ? { replacing: opts.replacing.manifestDescriptor } : {},
    );
  }

  async tag(image: StoredImage, name: string): Promise<void> {
    await this.tags.set(name, {
      ...image.manifestDescriptor,
      platform: platformOf(image.config),
    });
  }

  async loadImage(manifestDescriptor: Descriptor): Promise<StoredImage> {
    const what = `manifest ${manifestDescriptor.digest}`;
    const manifest = asManifest(await this.blobs.readJson(manifestDescriptor, what), what);
    const configWhat = `config ${manifest.config.digest}`;
    const config = asImageConfig(await this.blobs.readJson(manifest.config, configWhat), configWhat);
    return { manifestDescriptor, manifest, config, id: manifest.config.digest };
  }

  /**
   * Find an image by tag (`app`, `app:1`, `localhost:5000/app:1`), by image ID
   * (config digest, full or a hex prefix of at least 4 characters, like docker), or
   * by manifest digest.
   */
  async resolveImage(name: string): Promise<StoredImage> {
    const tags = await this.tags.list();
    const tagName = normaliseTagName(name);
    const byTag = tagName === undefined ? undefined : tags.find((t) => t.name === tagName);
    if (byTag) return this.loadImage(byTag.descriptor);
    const hex = name.startsWith('sha256:') ? name.slice(7) : name;
    if (/^[a-f0-9]{4,64}$/.test(hex)) {
      const matches = new Map<Digest, StoredImage>();
      for (const desc of [...tags.map((t) => t.descriptor), ...(await this.tags.unnamed())]) {
        const img = await this.loadImage(desc).catch(() => undefined);
        if (img && (img.id.slice(7).startsWith(hex) || desc.digest.slice(7) === hex)) matches.set(img.id, img);
      }
      if (matches.size === 1) return [...matches.values()][0]!;
      if (matches.size > 1) throw new LayerstoreError('TSBUILD_REFERENCE_INVALID', `image ID prefix ${name} is ambiguous`);
    }
    throw new NotFoundError('TSBUILD_IMAGE_NOT_FOUND', `image ${JSON.stringify(name)} not found in the store at ${this.root}`);
  }

  /** One entry per image ID (config digest) with all its names (by-image.ts). */
  async listImages(): Promise<ImageListing[]> {
    return imagesById(this);
  }

  /**
   * Every blob digest and snapshot chain id that some tag reaches (with `unnamed`, also
   * the untagged images: a failed operation's rollback must keep those; prune drops them).
   */
  async reachable(opts: { unnamed?: boolean } = {}): Promise<{ blobs: Set<Digest>; snapshots: Set<Digest> }> {
    const blobs = new Set<Digest>();
    const snapshots = new Set<Digest>();
    const manifests: Descriptor[] = [];
    const pending = [...(await this.tags.list()).map((t) => t.descriptor), ...(opts.unnamed ? await this.tags.unnamed() : [])];
    while (pending.length > 0) {
      const d = pending.pop()!;
      if (blobs.has(d.digest)) continue;
      blobs.add(d.digest);
      if (d.mediaType === MediaType.ociIndex || d.mediaType === MediaType.dockerManifestList) {
        const index = await this.blobs.readJson(d).then((v) => asIndex(v, `index ${d.digest}`), () => undefined);
        for (const m of index?.manifests ?? []) if (await this.blobs.has(m.digest)) pending.push(m);
      } else manifests.push(d);
    }
    for (const d of manifests) {
      let image: StoredImage;
      try {
        image = await this.loadImage(d);
      } catch {
        continue;
      }
      blobs.add(image.manifest.config.digest);
      for (const l of image.manifest.layers) blobs.add(l.digest);
      for (const d of image.config.rootfs.diff_ids) blobs.add(d);
      for (const c of chainIds(image.config.rootfs.diff_ids)) snapshots.add(c);
    }
    // Records of the kinds registered as holding content (the build cache) are roots too.
    for (const [kind, roles] of await registeredKinds(this.cacheDir)) {
      if (!roles.holdsContent) continue;
      const records = this.records<HoldingRecord>(kind, { valid: isHoldingRecord });
      for (const key of await records.keys()) {
        const rec = await records.get(key);
        for (const b of rec?.holds?.blobs ?? []) if (isDigest(b)) blobs.add(b);
        for (const c of rec?.holds?.snapshots ?? []) if (isDigest(c)) snapshots.add(c);
      }
    }
    return { blobs, snapshots };
  }

  /** A private scratch directory under tmp/ (same filesystem as the store), removed on crash recovery. */
  async makeTempDir(prefix = ''): Promise<string> {
    const dir = join(this.tmpDir, `${process.pid}-${prefix}${sha256(String(Math.random())).slice(7, 19)}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /** The typed record store of one kind (records.ts): its owner says whether it holds content or is build cache. */
  records<T extends object>(kind: string, spec: RecordKind = {}): RecordStore<T> {
    return new FsRecordStore<T>(this.cacheDir, kind, spec);
  }

  /** One record, untyped (a hint: missing or malformed reads as undefined); see records(). */
  async readRecord<T extends object>(kind: string, key: string, valid?: (v: Record<string, unknown>) => boolean): Promise<T | undefined> {
    return readRecordFile<T>(this.cacheDir, kind, key, valid);
  }
}

/** `app` -> `app:latest`; undefined when `name` is not a reference at all. */
export function normaliseTagName(name: string): string | undefined {
  try {
    return familiarString(withDefaultTag(parseReference(name)));
  } catch {
    return undefined;
  }
}
