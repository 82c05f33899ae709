/**
 * Tags live in the OCI layout's `index.json` as manifest descriptors annotated with
 * `org.opencontainers.image.ref.name`, so `skopeo inspect oci:<root>:<tag>` reads them.
 * Every update takes the index lock, re-reads, changes, and replaces the file
 * atomically, so concurrent tsbuild processes never lose a tag.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError } from '../errors.js';
import { MediaType } from '../image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor, type Index } from '../image/types.js';
import { parseJson } from '../image/json.js';
import { asIndex } from '../image/validate.js';
import { writeFileAtomic } from './fsutil.js';
import { withLock } from './lock.js';

export interface Tag {
  name: string;
  descriptor: Descriptor;
}

export class TagIndex {
  readonly path: string;

  constructor(readonly root: string, private readonly locksDir: string) {
    this.path = join(root, 'index.json');
  }

  async read(): Promise<Index> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
      throw ioError(`read ${this.path}`, err);
    }
    return asIndex(parseJson(text, this.path), this.path);
  }

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

  /** Point `name` at a manifest (replacing what it pointed at). */
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

  /** Forget every unnamed image (prune); returns how many there were. */
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

  /** Remove a tag; returns whether it existed. */
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
    await withLock(this.locksDir, 'index.lock', async () => {
      const index = await this.read();
      const manifests = change(index.manifests).sort((a, b) => refName(a).localeCompare(refName(b)) || a.digest.localeCompare(b.digest));
      const next: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
      await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`).catch((err) => {
        throw ioError(`write ${this.path}`, err);
      });
    });
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
