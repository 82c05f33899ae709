/**
 * The store's names grouped by image ID (the config digest), the way docker groups them:
 * one image may be reachable through several manifests (layers kept uncompressed, the
 * same layers gzip- or zstd-compressed after a push and pull, a Docker-format manifest),
 * and every name whose manifest has the image's config is a name of that image.
 *
 * `images` shows one row per name, `inspect` lists every name as RepoTags, and `rmi` of
 * an image ID removes every name, all from this grouping.
 */
import type { Digest } from '../digest.js';
import type { Descriptor } from '../image/types.js';
import type { ImageListing, Store, StoredImage } from './store.js';

/**
 * Every image the store names or keeps unnamed, once per image ID, in the order of the
 * index (names sorted). `image` is the manifest of the image's first name (or of an
 * unnamed manifest when it has no name); `tags` are all its names.
 */
export async function imagesById(store: Store): Promise<ImageListing[]> {
  const byId = new Map<Digest, ImageListing>();
  const loaded = new Map<Digest, Promise<StoredImage>>();
  const add = async (d: Descriptor, name?: string) => {
    let p = loaded.get(d.digest);
    if (!p) loaded.set(d.digest, (p = store.loadImage(d)));
    const image = await p;
    let entry = byId.get(image.id);
    if (!entry) byId.set(image.id, (entry = { image, tags: [], manifests: [] }));
    if (!entry.manifests.some((m) => m.digest === d.digest)) entry.manifests.push(image.manifestDescriptor);
    if (name !== undefined) entry.tags.push(name);
  };
  // Names first, so an image's `image` is the manifest of its first name.
  for (const t of await store.tags.list()) await add(t.descriptor, t.name);
  for (const d of await store.tags.unnamed()) await add(d);
  return [...byId.values()];
}

/** Every name of image `id` (whatever manifest each name points at). */
export async function namesOf(store: Store, id: Digest): Promise<string[]> {
  return (await imagesById(store)).find((l) => l.image.id === id)?.tags ?? [];
}
