/**
 * Scratch stores seeded from another, and copies of images between stores.
 *
 * A clone lives under the source store's tmp/ (so a crash leaves it to the next
 * recovery) and starts with the source's blobs (hard links; copies where a link fails)
 * and tags, but no snapshots, records or leases: what is built in it is built afresh,
 * while the bases it names are found. `tsbuild build --reproducible-check` builds twice,
 * each time in a clone, and compares.
 *
 *   const scratch = await cloneStore(store, 'repro-a-');
 *   try {
 *     const built = await buildInto(scratch);
 *     await copyImage(scratch, store, built);     // verified, into the main store
 *   } finally {
 *     await discardStore(scratch);
 *   }
 */
import { copyFile, link, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Store, type StoredImage } from './store.js';

/** A fresh store under `from`'s tmp/, holding its blobs and tags. */
export async function cloneStore(from: Store, prefix = 'clone-'): Promise<Store> {
  const root = await from.makeTempDir(prefix);
  const blobs = join(root, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  for (const b of await readdir(from.blobs.dir)) {
    await link(join(from.blobs.dir, b), join(blobs, b)).catch(() => copyFile(join(from.blobs.dir, b), join(blobs, b)));
  }
  await copyFile(from.tags.path, join(root, 'index.json')).catch(() => {});
  return Store.open(root, { overlayForm: from.overlayForm });
}

/** Close a clone and remove it with everything in it. */
export async function discardStore(store: Store): Promise<void> {
  await store.close();
  await rm(store.root, { recursive: true, force: true });
}

/** Copy an image's blobs (verified as they are read) from one store into another; the image as `to` holds it. */
export async function copyImage(from: Store, to: Store, image: StoredImage): Promise<StoredImage> {
  for (const d of [image.manifest.config, ...image.manifest.layers, image.manifestDescriptor]) {
    await to.blobs.write(await from.blobs.open(d), { digest: d.digest, size: d.size });
  }
  return to.loadImage(image.manifestDescriptor);
}
