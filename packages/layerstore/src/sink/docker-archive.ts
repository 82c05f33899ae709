/** A docker-archive (`docker save`'s format, for `docker load`), RepoTags from the names. */
import { writeDockerArchive } from '../export/docker-archive.js';
import { imageAs } from '../export/image-as.js';
import type { FileSinkOptions, ImageSink } from './sink.js';

export function dockerArchiveSink(dest: string, opts: FileSinkOptions = {}): ImageSink {
  return {
    kind: 'docker-archive',
    async write(store, image) {
      const converted = await imageAs(store, image, opts.form);
      await writeDockerArchive(store, dest, [{ image: converted, names: opts.names ?? [] }], { mtime: opts.mtime ?? 0 });
      return converted.manifestDescriptor;
    },
  };
}
