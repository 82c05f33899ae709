/** An OCI image layout directory (`oci:`), created if needed; its index gains one entry per name. */
import { mkdir } from 'node:fs/promises';
import { ioError } from '../errors.js';
import { imageAs } from '../export/image-as.js';
import { writeOciLayout } from '../export/oci.js';
import type { FileSinkOptions, ImageSink } from './sink.js';

export function ociLayoutSink(dir: string, opts: Omit<FileSinkOptions, 'mtime'> = {}): ImageSink {
  return {
    kind: 'oci-layout',
    async write(store, image) {
      const converted = await imageAs(store, image, opts.form);
      await mkdir(dir, { recursive: true }).catch((err) => {
        throw ioError(`OCI layout ${dir}`, err);
      });
      await writeOciLayout(store, dir, [{ image: converted, names: opts.names ?? [] }]);
      return converted.manifestDescriptor;
    },
  };
}
