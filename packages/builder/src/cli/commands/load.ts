/**
 * `tsbuild load [-i FILE]`, with docker's output and defaults: reads stdin without -i
 * and prints `Loaded image: NAME` (or `Loaded image ID: ID` for an unnamed image).
 */
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { hostPlatform, ioError, loadArchive } from '@tsbuild/layerstore';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

export const load: Command = {
  command: 'load',
  describe: 'Load images from a docker-archive or OCI archive (stdin without -i; gzip, xz and zstd undone)',
  builder: (y) => y.option('input', { alias: 'i', type: 'string', describe: 'Read from this file instead of stdin' }),
  handler: async (a, io) => {
    const store = await io.store();
    const given = a.input as string | undefined;
    let input: Readable;
    let where: string;
    if (given === undefined || given === '-') {
      if (io.stdin.isTTY) throw new UsageError('requested load from stdin, but stdin is a terminal: use -i FILE or redirect');
      input = io.stdin;
      where = 'archive on stdin';
    } else {
      const fh = await open(resolve(given), 'r').catch((err) => {
        throw ioError(`load ${given}`, err);
      });
      input = fh.createReadStream({ highWaterMark: 1 << 20 });
      where = `archive ${given}`;
    }
    const result = await loadArchive(store, input, { where, platform: hostPlatform(), signal: io.signal });
    for (const { image, names } of result.images) {
      if (names.length === 0) io.stdout.write(`Loaded image ID: ${image.id}\n`);
      for (const n of names) io.stdout.write(`Loaded image: ${n}\n`);
    }
    return 0;
  },
};
