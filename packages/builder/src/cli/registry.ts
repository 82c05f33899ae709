/** The registry client the commands share (made on first use), and pushing an image under its names. */

import {
  loadRegistryConfig,
  parseReference,
  withDefaultTag,
  registrySink,
  RegistryClient,
  type Descriptor,
  type ImageForm,
  type RegistryEvent,
  type Store,
  type StoredImage,
} from '@tsbuild/layerstore';
import { UsageError } from '../errors.js';
import type { Io } from './io.js';

export interface RegistryFlags {
  registryMirror: string[];
  insecureRegistry: string[];
}

export interface Registry {
  /** The client, created on first use. */
  client(): RegistryClient;
  close(): void;
}

export async function openRegistry(io: Io, flags: RegistryFlags, onEvent?: (e: RegistryEvent) => void): Promise<Registry> {
  const config = await loadRegistryConfig({ env: io.env, mirrors: flags.registryMirror, insecure: flags.insecureRegistry });
  let client: RegistryClient | undefined;
  return {
    client: () => (client ??= new RegistryClient({ config, env: io.env, ...(onEvent ? { onEvent } : {}) })),
    close: () => client?.close(),
  };
}

/**
 * Push a store image under one or more names, in `form` (media-type family and layer
 * compression; by default the image's own family, uncompressed layers gzip); returns the
 * pushed manifest's descriptor. What it pushes is told by the client's events (`pushed`
 * ends each name), which the caller's renderer draws.
 */
export async function pushImage(store: Store, registry: Registry, image: StoredImage, destinations: string[], io: Io, form: ImageForm = {}): Promise<Descriptor | undefined> {
  for (const dest of destinations) {
    if (withDefaultTag(parseReference(dest)).digest !== undefined) throw new UsageError(`push ${dest}: push to a tag, not a digest`);
  }
  const sink = registrySink({ client: registry.client, destinations, form });
  return sink.write(store, image, { signal: io.signal });
}

