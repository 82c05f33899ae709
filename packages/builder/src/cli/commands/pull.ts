/** `tsbuild pull REF`: an image from a registry into the store, with docker pull's lines. */
import { familiarString, formatReference, parseReference, withDefaultTag } from '@tsbuild/layerstore';
import { pullRenderer } from '../../progress/index.js';
import { registryFlags, type Command } from '../command.js';
import { parsePlatform } from '../platform-flag.js';
import { openRegistry } from '../registry.js';

export const pull: Command = {
  command: 'pull <ref>',
  describe: 'Pull an image from a registry into the store',
  builder: (y) =>
    y
      .positional('ref', { type: 'string', demandOption: true })
      .option('platform', { type: 'string', describe: 'OS/ARCH[/VARIANT] from a multi-platform image (default: this machine\'s)' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false }),
  handler: async (a, io) => {
    const store = await io.store();
    const quiet = a.quiet as boolean;
    const ref = withDefaultTag(parseReference(a.ref as string));
    const registry = await openRegistry(io, registryFlags(a), pullRenderer(io.stderr, quiet));
    try {
      if (!quiet) io.stderr.write(`${ref.tag ?? ref.digest}: Pulling from ${ref.path}\n`);
      const platform = parsePlatform(a.platform as string | undefined);
      const { image, digest, source, updated } = await registry.client().pull(store, ref, { platform, signal: io.signal });
      const status = updated ? 'Downloaded newer image' : 'Image is up to date';
      if (!quiet) io.stderr.write(`Digest: ${digest}\nStatus: ${status} for ${familiarString(ref)} (from ${source}, image ID ${image.id.slice(7, 19)})\n`);
      io.stdout.write(`${formatReference(ref)}\n`);
      return 0;
    } finally {
      registry.close();
    }
  },
};
