/** `tsbuild inspect IMAGE...`: images as JSON, in docker image inspect's shape. */
import type { Command } from '../command.js';
import { inspectImages } from '../store-views.js';

export const inspect: Command = {
  command: 'inspect <image..>',
  describe: 'Show images as JSON (the shape of docker image inspect)',
  builder: (y) => y.positional('image', { type: 'string', array: true, demandOption: true }),
  handler: async (a, io) => {
    const list = await inspectImages(await io.store(), a.image as string[]);
    io.stdout.write(`${JSON.stringify(list, null, 4)}\n`);
    return 0;
  },
};
