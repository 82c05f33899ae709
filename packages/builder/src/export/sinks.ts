/**
 * Which layerstore sink writes an output: the builder only chooses, the sinks write.
 *   type=oci (tar)        ociArchiveSink       type=oci,tar=false   ociLayoutSink
 *   type=docker           dockerArchiveSink    --load               dockerLoadSink (docker-load.ts)
 *   type=local            rootfsSink           type=registry, --push registrySink (see plan.ts)
 */
import {
  dockerArchiveSink,
  ociArchiveSink,
  ociLayoutSink,
  registrySink,
  rootfsSink,
  type ImageForm,
  type ImageSink,
  type RegistryClient,
  type Store,
  type StoredImage,
} from '@tsbuild/layerstore';
import { UsageError } from '../errors.js';
import { dockerLoadSink } from './docker-load.js';
import { formOf, type OutputSpec } from './outputs.js';

export interface ExportOptions {
  /** Names recorded in archives when the output gives none (the -t tags). */
  names: string[];
  /** Archive entry times (SOURCE_DATE_EPOCH), default 0. */
  mtime?: number;
  onWarning?: (message: string) => void;
  /** What an output's tool said (`docker load` for --load). */
  onMessage?: (line: string) => void;
  /** For --load: PATH to find docker on, and cancellation. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** The sink for a file or directory output (pushes: pushSink). */
export function sinkFor(out: OutputSpec, opts: ExportOptions): ImageSink {
  const names = out.names ?? opts.names;
  if (out.type === 'local') return rootfsSink(out.dest, opts.onWarning ? { onWarning: opts.onWarning } : {});
  if (out.type === 'registry') throw new UsageError('-o type=registry is pushed by the build command, not exported');
  const file = { names, form: formOf(out), mtime: opts.mtime ?? 0 };
  if (out.type === 'docker') {
    if (!out.tar) throw new UsageError('-o type=docker: tar=false is not supported');
    return out.load ? dockerLoadSink({ ...opts, ...file }) : dockerArchiveSink(out.dest, file);
  }
  return out.tar ? ociArchiveSink(out.dest, file) : ociLayoutSink(out.dest, { names, form: file.form });
}

/** A push of the image to each destination, in `form`. */
export function pushSink(registry: () => RegistryClient, destinations: string[], form: ImageForm): ImageSink {
  return registrySink({ client: registry, destinations, form });
}

/** Write `image` to a file or directory output, in that output's form (see plan.ts for pushes). */
export async function exportImage(store: Store, image: StoredImage, out: OutputSpec, opts: ExportOptions): Promise<void> {
  await sinkFor(out, opts).write(store, image, opts.signal ? { signal: opts.signal } : {});
}

export function describeOutput(out: OutputSpec): string {
  if (out.load) return 'loading the image into docker (docker load)';
  return `exporting to ${out.type}${out.type !== 'local' && !out.tar ? ' layout' : ''} ${out.dest}`;
}
