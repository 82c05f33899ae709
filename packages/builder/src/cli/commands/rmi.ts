/**
 * `tsbuild rmi [-f] REF...`, with docker's rules: rmi of a tag removes that tag only;
 * rmi of an image ID removes the image's tag, or all of them with -f when it has
 * several. Blobs stay until `tsbuild prune`.
 */
import { LayerstoreError, namesOf, normaliseTagName, type Store } from '@tsbuild/layerstore';
import type { Io } from '../io.js';
import type { Command } from '../command.js';

export const rmi: Command = {
  command: 'rmi <image..>',
  describe: 'Remove image tags (an image ID with several tags needs -f); blobs go at the next prune',
  builder: (y) => y.positional('image', { type: 'string', array: true, demandOption: true }).option('force', { alias: 'f', type: 'boolean', default: false }),
  handler: async (a, io) => {
    await rmiCommand(await io.store(), a.image as string[], { force: a.force as boolean }, io);
    return 0;
  },
};

/** Untags what it can, printing `Untagged: NAME`; then fails naming every REF it could not remove. */
async function rmiCommand(store: Store, refs: string[], opts: { force: boolean }, io: Io): Promise<void> {
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
