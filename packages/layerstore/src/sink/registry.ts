/** Pushed to a registry under one or more tags, in the sink's form (the client converts as it pushes). */
import { LayerstoreError } from '../errors.js';
import type { ImageForm } from '../export/image-as.js';
import type { Descriptor } from '../image/types.js';
import { parseReference, withDefaultTag, type Reference } from '../reference.js';
import type { RegistryClient } from '../registry/client.js';
import type { PushResult } from '../registry/push.js';
import type { ImageSink } from './sink.js';

export interface RegistrySinkOptions {
  /** The client, asked for on first use. */
  client: () => RegistryClient;
  /** Tags to push to (`registry.example/app:1`; no tag: latest); a digest is refused. */
  destinations: string[];
  /** Media-type family and layer compression (default: the image's own family, uncompressed layers gzip). */
  form?: ImageForm;
  /** After each push (`docker push` prints `1: digest: sha256:... size: 528`). */
  onPushed?: (ref: Reference, pushed: PushResult) => void;
}

/** Each destination parsed, with `latest` added; a digest reference is an error. */
export function pushDestinations(destinations: string[]): Reference[] {
  return destinations.map((dest) => {
    const ref = withDefaultTag(parseReference(dest));
    if (ref.digest !== undefined) throw new LayerstoreError('TSBUILD_REFERENCE_INVALID', `push ${dest}: push to a tag, not a digest`);
    return ref;
  });
}

export function registrySink(opts: RegistrySinkOptions): ImageSink {
  return {
    kind: 'registry',
    async write(store, image, { signal } = {}) {
      let last: Descriptor | undefined;
      const form = opts.form ?? {};
      for (const ref of pushDestinations(opts.destinations)) {
        const pushed = await opts.client().push(store, image, ref, {
          ...(signal ? { signal } : {}),
          ...(form.format ? { format: form.format } : {}),
          ...(form.compression ? { compression: form.compression } : {}),
          ...(form.level !== undefined ? { level: form.level } : {}),
        });
        last = { mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size };
        opts.onPushed?.(ref, pushed);
      }
      return last;
    },
  };
}
