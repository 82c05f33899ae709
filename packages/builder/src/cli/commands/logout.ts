/** `tsbuild logout [REGISTRY]`: remove the credentials ~/.docker/config.json keeps for it. */
import { logout as logOut } from '@tsbuild/layerstore';
import type { Command } from '../command.js';

export const logout: Command = {
  command: 'logout [registry]',
  describe: 'Remove the credentials for a registry (default docker.io)',
  builder: (y) => y.positional('registry', { type: 'string' }),
  handler: async (a, io) => {
    const registry = (a.registry as string | undefined) ?? 'docker.io';
    const removed = await logOut(registry, { env: io.env });
    io.stdout.write(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
    return 0;
  },
};
