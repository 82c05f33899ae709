/**
 * `--load` (buildx's flag): the image as a docker-archive, handed to `docker load` of the
 * docker CLI on PATH. Without a docker CLI it is a clear error, never a silent no-op.
 */
import { spawn } from 'node:child_process';
import { access, constants, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { dockerArchiveSink, imageAs, type FileSinkOptions, type ImageSink } from '@tsbuild/layerstore';
import { BuildError, UsageError } from '../errors.js';

export interface DockerLoadOptions extends FileSinkOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** What docker said (`Loaded image: app:1`), a line at a time. */
  onMessage?: (line: string) => void;
}

/** The docker CLI on PATH, or undefined. */
export async function findDocker(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'docker');
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/** A sink that hands the image (as a docker-archive in the store's tmp/) to `docker load`. */
export function dockerLoadSink(opts: DockerLoadOptions = {}): ImageSink {
  return {
    kind: 'docker-load',
    async write(store, image) {
      const converted = await imageAs(store, image, opts.form);
      const docker = await findDocker(opts.env);
      if (docker === undefined) throw new UsageError('--load: no docker CLI on PATH to load the image into; export a file with -o type=docker,dest=FILE instead');
      const tmp = await store.makeTempDir('load-');
      try {
        const archive = join(tmp, 'image.tar');
        await dockerArchiveSink(archive, { names: opts.names ?? [], mtime: opts.mtime ?? 0 }).write(store, converted);
        const { code, stdout, stderr } = await run(docker, ['load', '-i', archive], opts);
        for (const line of stdout.split('\n')) if (line.trim() !== '') opts.onMessage?.(line.trim());
        if (code !== 0) throw new BuildError('TSBUILD_EXPORT_FAILED', `--load: ${docker} load exited with ${code}: ${stderr.trim() || stdout.trim()}`);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
      return converted.manifestDescriptor;
    },
  };
}

function run(cmd: string, args: string[], opts: DockerLoadOptions): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.signal ? { signal: opts.signal } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(err.name === 'AbortError' ? err : new BuildError('TSBUILD_EXPORT_FAILED', `--load: cannot run ${cmd}: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + (signal ? 15 : 0), stdout, stderr }));
  });
}
