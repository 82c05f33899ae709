/** `tsbuild push IMAGE [DEST]`: an image from the store to a registry; prints the manifest digest. */
import { resolveImage, type ManifestFormat } from '@tsbuild/layerstore';
import { UsageError } from '../../errors.js';
import { pullRenderer } from '../../progress/index.js';
import { registryFlags, type Command } from '../command.js';
import { openRegistry, pushImage } from '../registry.js';

/** `push --format`: skopeo's and buildah's names for the manifest families. */
const PUSH_FORMATS: Record<string, ManifestFormat> = { oci: 'oci', v2s2: 'docker', docker: 'docker' };

export const push: Command = {
  command: 'push <image> [dest]',
  describe: 'Push an image from the store to a registry (to DEST, else to its own name); prints the manifest digest',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true })
      .positional('dest', { type: 'string' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false })
      .option('format', { alias: 'f', type: 'string', describe: 'Manifest format: oci or v2s2 (Docker schema 2); default: the image\'s own' }),
  handler: async (a, io) => {
    const store = await io.store();
    const quiet = a.quiet as boolean;
    const name = a.format as string | undefined;
    const format = name === undefined ? undefined : PUSH_FORMATS[name];
    if (name !== undefined && format === undefined) throw new UsageError(`--format ${JSON.stringify(name)}: want oci or v2s2`);
    const registry = await openRegistry(io, registryFlags(a), pullRenderer(io.stderr, quiet));
    try {
      const { image } = await resolveImage(a.image as string, { store });
      const pushed = await pushImage(store, registry, image, [(a.dest as string | undefined) ?? (a.image as string)], io, format ? { format } : {});
      io.stdout.write(`${pushed?.digest}\n`);
      return 0;
    } finally {
      registry.close();
    }
  },
};
