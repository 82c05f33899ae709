/** `tsbuild history IMAGE`: an image's history, like docker history. */
import type { Command } from '../command.js';
import { imageHistory } from '../store-views.js';

export const history: Command = {
  command: 'history <image>',
  describe: 'Show the history of an image',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true })
      .option('no-trunc', { type: 'boolean', default: false })
      .option('human', { alias: 'H', type: 'boolean', default: true, describe: 'Sizes and dates in human-readable form' }),
  handler: async (a, io) => {
    io.stdout.write(await imageHistory(await io.store(), a.image as string, { noTrunc: a['no-trunc'] as boolean, human: a.human as boolean }));
    return 0;
  },
};
