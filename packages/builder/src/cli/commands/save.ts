/**
 * `tsbuild save REF... [-o FILE] [--format docker|oci|oci-dir]`, with docker's output and
 * defaults: a docker-archive with uncompressed layers, to stdout when it is not a terminal.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import {
  imageAs,
  normaliseTagName,
  resolveImageRef,
  writeDockerArchive,
  writeOciArchive,
  writeOciLayout,
  type Digest,
  type ExportImage,
  type Store,
} from '@tsbuild/layerstore';
import { UsageError } from '../../errors.js';
import type { Io } from '../io.js';
import type { Command } from '../command.js';

export const save: Command = {
  command: 'save <image..>',
  describe: 'Save images to a docker-archive (default), an OCI archive or an OCI layout directory',
  builder: (y) =>
    y
      .positional('image', { type: 'string', array: true, demandOption: true, describe: 'store tag or ID, oci-archive:FILE[:NAME], oci:DIR[:NAME], docker-archive:FILE[:NAME]' })
      .option('output', { alias: 'o', type: 'string', describe: 'Write to this file (directory for oci-dir); stdout when absent or -' })
      .option('format', { type: 'string', default: 'docker', describe: 'docker, oci or oci-dir' }),
  handler: async (a, io) => {
    const output = a.output as string | undefined;
    await saveCommand(await io.store(), { refs: a.image as string[], format: a.format as string, ...(output !== undefined ? { output } : {}) }, io);
    return 0;
  },
};

type SaveFormat = 'docker' | 'oci' | 'oci-dir';

interface SaveArgs {
  refs: string[];
  output?: string;
  format: string;
}

async function saveCommand(store: Store, a: SaveArgs, io: Io): Promise<void> {
  const format = a.format as SaveFormat;
  if (!['docker', 'oci', 'oci-dir'].includes(format)) throw new UsageError(`--format ${a.format}: want docker, oci or oci-dir`);
  const toStdout = a.output === undefined || a.output === '-';
  if (toStdout && format === 'oci-dir') throw new UsageError('--format oci-dir writes a directory: name it with -o DIR');
  if (toStdout && io.stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal: use the -o flag or redirect');
  // OCI outputs get OCI media types, docker-archives Docker ones (and, like docker save,
  // uncompressed layers); the config, so the image ID, stays the same.
  const images: ExportImage[] = [];
  for (const { image, names } of await saveSet(store, a.refs)) {
    images.push({ image: await imageAs(store, image, format === 'docker' ? { format: 'docker', compression: 'none' } : { format: 'oci' }), names });
  }
  if (format === 'oci-dir') {
    const dir = resolve(a.output!);
    await mkdir(dir, { recursive: true });
    await writeOciLayout(store, dir, images);
    return;
  }
  const write = async (dest: string) => (format === 'oci' ? writeOciArchive(store, dest, images) : writeDockerArchive(store, dest, images));
  if (!toStdout) return write(resolve(a.output!));
  const tmp = await store.makeTempDir('save-');
  try {
    await write(join(tmp, 'image.tar'));
    await copyTo(createReadStream(join(tmp, 'image.tar'), { highWaterMark: 1 << 20 }), io.stdout, io.signal);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The images to save, each once, named by the REFs that are tags (an image ID names nothing, like docker). */
async function saveSet(store: Store, refs: string[]): Promise<ExportImage[]> {
  const byManifest = new Map<Digest, ExportImage>();
  for (const ref of refs) {
    const image = await resolveImageRef(store, ref);
    const tag = normaliseTagName(ref);
    const named = tag !== undefined && (await store.tags.get(tag)) !== undefined;
    const entry = byManifest.get(image.manifestDescriptor.digest) ?? { image, names: [] };
    if (named && !entry.names.includes(tag)) entry.names.push(tag);
    byManifest.set(image.manifestDescriptor.digest, entry);
  }
  return [...byManifest.values()];
}

/** Copy into stdout without ending it (process.stdout is never closed by us); a closed stdout aborts `signal`. */
async function copyTo(source: Readable, out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  for await (const chunk of source) {
    signal.throwIfAborted();
    if (!out.write(chunk as Buffer)) await once(out, 'drain', { signal });
  }
}
