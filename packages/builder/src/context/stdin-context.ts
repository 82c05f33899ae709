/**
 * What `tsbuild build -` reads on stdin, told apart by content as docker does: a
 * compressed stream (gzip, bzip2, xz, zstd) or a tar header is a context archive,
 * anything else is a Dockerfile (and the build has no context files).
 *
 * An archive is extracted into a private directory with the same rules as layers and ADD
 * archives (applyTar over a RootFs): names are resolved inside the directory, `..` and
 * symlinks cannot lead out of it, device nodes are not created.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { applyTar, autoDecompress, detectFormat, LayerstoreError, peek, readTar, RootFs } from '@tsbuild/layerstore';
import { BuildError } from '../errors.js';

export type StdinContent = { kind: 'archive'; contextDir: string } | { kind: 'dockerfile'; dockerfile: string; contextDir: string };

const BLOCK = 512;

/**
 * Is this the first block of a tar stream? Its header checksum (bytes 148-155, octal)
 * matches the sum of the block's bytes with that field counted as spaces.
 */
export function looksLikeTar(head: Buffer): boolean {
  if (head.length < BLOCK) return false;
  const field = head.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]{1,7}$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : head[i]!;
  return sum === parseInt(field, 8);
}

/** Write a Dockerfile read from stdin to DIR/Dockerfile (so messages say `Dockerfile:N`); returns its path. */
export async function dockerfileFromStdin(stdin: Readable, dir: string): Promise<string> {
  const path = join(dir, 'Dockerfile');
  await pipeline(stdin, createWriteStream(path, { mode: 0o600 }));
  return path;
}

/**
 * Read stdin into `dir`: an archive is extracted into DIR/context; a Dockerfile is written
 * to DIR/Dockerfile beside an empty DIR/context.
 */
export async function readStdinContext(stdin: Readable, dir: string, opts: { onWarning?: (m: string) => void } = {}): Promise<StdinContent> {
  const contextDir = join(dir, 'context');
  await mkdir(contextDir, { mode: 0o700 });
  const head = await peek(stdin, BLOCK);
  if (detectFormat(head.bytes) === 'none' && !looksLikeTar(head.bytes)) {
    const dockerfile = await dockerfileFromStdin(head.stream, dir);
    return { kind: 'dockerfile', dockerfile, contextDir };
  }
  try {
    const { stream } = await autoDecompress(head.stream);
    const root = new RootFs({ upper: contextDir, whiteouts: 'delete' });
    await applyTar(root, readTar(stream), { whiteouts: false, devices: false, ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
  } catch (err) {
    if (err instanceof BuildError) throw err;
    const unsafe = err instanceof LayerstoreError && err.code === 'TSBUILD_LAYER_UNSAFE';
    throw new BuildError(unsafe ? 'TSBUILD_CONTEXT_ESCAPE' : 'TSBUILD_CONTEXT_INVALID', `build context archive on stdin: ${(err as Error).message}`, { cause: err });
  }
  return { kind: 'archive', contextDir };
}
