/**
 * The tag index interface: names -> manifest descriptors, plus images kept without a
 * name (docker's `<none>`), all as entries of one OCI index (a tag is an entry annotated
 * with `org.opencontainers.image.ref.name`). An implementation supplies reading the index
 * and one atomic read-change-write (`update`); every verb is derived from those two
 * (IndexTags), so the filesystem index (tags.ts) and the in-memory fake
 * (testing/memory-tags.ts) cannot differ in meaning. Both run testing/tag-suite.ts.
 *
 * States of a name: absent -> set (points at a manifest) -> set again (moves) ->
 * removed. An image recorded unnamed stays listed until a name points at it or prune
 * removes the unnamed entries.
 *
 *   await tags.set('app:1', manifestDescriptor);
 *   (await tags.get('app:1'))?.digest;          // the manifest
 *   await tags.addUnnamed(otherDescriptor);      // kept, found by ID, prunable
 */
import { MediaType } from '../image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor, type Index } from '../image/types.js';

export interface Tag {
  name: string;
  descriptor: Descriptor;
}

export interface TagStore {
  list(): Promise<Tag[]>;
  get(name: string): Promise<Descriptor | undefined>;
  /** Point `name` at a manifest (replacing what it pointed at). */
  set(name: string, descriptor: Descriptor): Promise<void>;
  /** Remove a tag; returns whether it existed. */
  remove(name: string): Promise<boolean>;
  /** Keep an image without a name; see IndexTags.addUnnamed. */
  addUnnamed(descriptor: Descriptor, opts?: { replacing?: Descriptor }): Promise<void>;
  unnamed(): Promise<Descriptor[]>;
  /** Forget every unnamed image (prune); returns how many there were. */
  removeUnnamed(): Promise<number>;
}

/**
 * Every verb of TagStore over an index that can be read and atomically changed: an
 * implementation gives only `read` and `write`, which is why the class has nine methods.
 */
export abstract class IndexTags implements TagStore {
  /** The whole index (an absent one is empty). */
  abstract read(): Promise<Index>;
  /** Read, change and write the index's entries as one step no other update interleaves with. */
  protected abstract write(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void>;

  async list(): Promise<Tag[]> {
    const index = await this.read();
    const tags: Tag[] = [];
    for (const d of index.manifests) {
      const name = d.annotations?.[REF_NAME_ANNOTATION];
      if (name !== undefined) tags.push({ name, descriptor: d });
    }
    return tags;
  }

  async get(name: string): Promise<Descriptor | undefined> {
    return (await this.list()).find((t) => t.name === name)?.descriptor;
  }

  async set(name: string, descriptor: Descriptor): Promise<void> {
    await this.update((manifests) => [
      // A tagged image is no longer listed unnamed.
      ...manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== name && !(isUnnamed(d) && d.digest === descriptor.digest)),
      { ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME_ANNOTATION]: name } },
    ]);
  }

  /**
   * Record an image without a name (a build without -t, a load of an unnamed image),
   * like docker's `<none>` images: found by ID, listed, and removed by prune. Nothing
   * happens when a tag already points at it. `replacing`: an unnamed entry this one
   * supersedes (removed in the same update).
   */
  async addUnnamed(descriptor: Descriptor, opts: { replacing?: Descriptor } = {}): Promise<void> {
    await this.update((manifests) => {
      // Another manifest of the same image (see imageAs) takes the old one's place.
      const kept = opts.replacing ? manifests.filter((d) => !(isUnnamed(d) && d.digest === opts.replacing!.digest)) : manifests;
      return kept.some((d) => d.digest === descriptor.digest) ? kept : [...kept, withoutName(descriptor)];
    });
  }

  /** Images recorded without a name. */
  async unnamed(): Promise<Descriptor[]> {
    return (await this.read()).manifests.filter(isUnnamed);
  }

  async removeUnnamed(): Promise<number> {
    let n = 0;
    await this.update((manifests) =>
      manifests.filter((d) => {
        if (isUnnamed(d)) n++;
        return !isUnnamed(d);
      }),
    );
    return n;
  }

  async remove(name: string): Promise<boolean> {
    let found = false;
    await this.update((manifests) =>
      manifests.filter((d) => {
        const hit = d.annotations?.[REF_NAME_ANNOTATION] === name;
        found ||= hit;
        return !hit;
      }),
    );
    return found;
  }

  private async update(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
    await this.write((manifests) => change(manifests).sort((a, b) => refName(a).localeCompare(refName(b)) || a.digest.localeCompare(b.digest)));
  }
}

function isUnnamed(d: Descriptor): boolean {
  return d.annotations?.[REF_NAME_ANNOTATION] === undefined;
}

function withoutName(d: Descriptor): Descriptor {
  const annotations = { ...d.annotations };
  delete annotations[REF_NAME_ANNOTATION];
  const out: Descriptor = { ...d };
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  else delete out.annotations;
  return out;
}

function refName(d: Descriptor): string {
  return d.annotations?.[REF_NAME_ANNOTATION] ?? '';
}

export function emptyIndex(): Index {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
}
