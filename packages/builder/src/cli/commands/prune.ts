/** `tsbuild prune [--all] [--verbose]`: remove what no tag (and, without --all, no cache record) reaches. */
import { prune as pruneStore } from '@tsbuild/layerstore';
import type { Command } from '../command.js';
import { humanSize } from '../format.js';

export const prune: Command = {
  command: 'prune',
  describe: 'Remove blobs, snapshots and cache records that no tag reaches (a build running meanwhile keeps what it uses)',
  builder: (y) => y.option('verbose', { type: 'boolean', default: false, describe: 'List what is removed' }).option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Also empty the build cache' }),
  handler: async (a, io) => {
    const store = await io.store();
    const verbose = a.verbose as boolean;
    const r = await pruneStore(store, { all: a.all as boolean, onRemove: (what) => verbose && io.stdout.write(`removed ${what}\n`) });
    io.stdout.write(`Removed ${r.blobs} blobs, ${r.snapshots} snapshots and ${r.records} cache records\nTotal reclaimed space: ${humanSize(r.bytes)}\n`);
    return 0;
  },
};
