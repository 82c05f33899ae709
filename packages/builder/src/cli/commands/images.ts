/** `tsbuild images [-q] [--no-trunc]`: the store's images, one row per name, like docker images. */
import type { Command } from '../command.js';
import { listImages } from '../store-views.js';

export const images: Command = {
  command: 'images',
  describe: 'List images in the store',
  builder: (y) => y.option('quiet', { alias: 'q', type: 'boolean', default: false }).option('no-trunc', { type: 'boolean', default: false }),
  handler: async (a, io) => {
    io.stdout.write(await listImages(await io.store(), { quiet: a.quiet as boolean, noTrunc: a['no-trunc'] as boolean }));
    return 0;
  },
};
