/** `tsbuild store verify`: re-hash every blob, check every tag and snapshot; fails when anything is wrong. */
import { verifyStore } from '@tsbuild/layerstore';
import { BuildError } from '../../errors.js';
import type { Command } from '../command.js';
import { humanSize } from '../format.js';

export const store: Command = {
  command: 'store <action>',
  describe: 'Store maintenance: `store verify` re-hashes every blob and checks every tag and snapshot',
  builder: (y) => y.positional('action', { type: 'string', choices: ['verify'], demandOption: true }),
  handler: async (_a, io) => {
    const s = await io.store();
    const r = await verifyStore(s);
    for (const p of r.problems) io.stdout.write(`PROBLEM: ${p}\n`);
    io.stdout.write(`${s.root}: ${r.blobs} blobs (${humanSize(r.bytes)}) re-hashed, ${r.images} images, ${r.snapshots} snapshots: ${r.problems.length === 0 ? 'OK' : `${r.problems.length} problems`}\n`);
    if (r.problems.length > 0) throw new BuildError('TSBUILD_STEP_FAILED', 'the store has problems (listed above)');
    return 0;
  },
};
