/** The image's root filesystem as a directory (BuildKit's `type=local`); no manifest. */
import { writeRootfs } from '../export/rootfs.js';
import type { ImageSink } from './sink.js';

export interface RootfsSinkOptions {
  /** What could not be reproduced as it is (a device node without privileges, ...). */
  onWarning?: (message: string) => void;
}

export function rootfsSink(dir: string, opts: RootfsSinkOptions = {}): ImageSink {
  return {
    kind: 'rootfs',
    async write(store, image) {
      await writeRootfs(store, image, dir, opts.onWarning ? { onWarning: opts.onWarning } : {});
      return undefined;
    },
  };
}
