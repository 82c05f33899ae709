/** An OCI image layout in a tar file (`oci-archive:`), one index entry per name. */
import { imageAs } from '../export/image-as.js';
import { writeOciArchive } from '../export/oci.js';
import type { FileSinkOptions, ImageSink } from './sink.js';

export function ociArchiveSink(dest: string, opts: FileSinkOptions = {}): ImageSink {
  return {
    kind: 'oci-archive',
    async write(store, image) {
      const converted = await imageAs(store, image, opts.form);
      await writeOciArchive(store, dest, [{ image: converted, names: opts.names ?? [] }], { mtime: opts.mtime ?? 0 });
      return converted.manifestDescriptor;
    },
  };
}
