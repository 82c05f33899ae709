/** `tsbuild tag SOURCE TARGET`: another name for an image in the store, like docker tag. */
import { familiarString, parseTag } from '@tsbuild/layerstore';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

export const tag: Command = {
  command: 'tag <source> <target>',
  describe: 'Give an image in the store another name',
  builder: (y) => y.positional('source', { type: 'string', demandOption: true }).positional('target', { type: 'string', demandOption: true }),
  handler: async (a, io) => {
    const store = await io.store();
    const target = a.target as string;
    let name: string;
    try {
      name = familiarString(parseTag(target));
    } catch (err) {
      throw new UsageError(`tag ${target}: ${(err as Error).message}`);
    }
    const image = await store.resolveImage(a.source as string);
    await store.tag(image, name);
    return 0;
  },
};
