/**
 * `tsbuild tag SOURCE TARGET` and `tsbuild rmi [-f] REF...`, with docker's rules:
 * rmi of a tag removes that tag only; rmi of an image ID removes the image's tag, or
 * all of them with -f when it has several. Blobs stay until `tsbuild prune`.
 */
import { familiarString, LayerstoreError, namesOf, normaliseTagName, parseTag, type Store } from '@tsbuild/layerstore';
import { UsageError } from '../errors.js';
import type { Io } from './build-command.js';

export async function tagCommand(store: Store, source: string, target: string): Promise<void> {
  let name: string;
  try {
    name = familiarString(parseTag(target));
  } catch (err) {
    throw new UsageError(`tag ${target}: ${(err as Error).message}`);
  }
  const image = await store.resolveImage(source);
  await store.tag(image, name);
}

/** Untags what it can, printing `Untagged: NAME`; then fails naming every REF it could not remove. */
export async function rmiCommand(store: Store, refs: string[], opts: { force: boolean }, io: Io): Promise<void> {
  const failures: LayerstoreError[] = [];
  for (const ref of refs) {
    try {
      for (const name of await tagsToRemove(store, ref, opts.force)) {
        if (await store.tags.remove(name)) io.stdout.write(`Untagged: ${name}\n`);
      }
    } catch (err) {
      if (!(err instanceof LayerstoreError)) throw err;
      failures.push(err);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new LayerstoreError(failures[0]!.code, failures.map((f) => f.message).join('\nERROR: '));
}

async function tagsToRemove(store: Store, ref: string, force: boolean): Promise<string[]> {
  const tagName = normaliseTagName(ref);
  if (tagName !== undefined && (await store.tags.get(tagName)) !== undefined) return [tagName];
  const image = await store.resolveImage(ref);
  // Every name of the image, whatever manifest it points at (by-image.ts).
  const names = await namesOf(store, image.id);
  if (names.length > 1 && !force) {
    throw new LayerstoreError(
      'TSBUILD_REFERENCE_INVALID',
      `conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories (${names.join(', ')})`,
    );
  }
  return names;
}
