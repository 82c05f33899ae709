/**
 * `tsbuild run`: an image's snapshots as overlay lowerdirs, a throwaway upper dir,
 * and the image config (entrypoint, cmd, env, user, workdir) combined with the
 * command line the way `docker run` combines them.
 */
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureSnapshots, RootFs, type Store, type StoredImage } from '@tsbuild/layerstore';
import { resolveRunUser, UserResolutionError, type Executor, type Limits, type MountSpec, type NetworkMode, type PortSpec, type ResolvedUser, type RunResult } from '@tsbuild/executor';
import { UsageError } from '../errors.js';
import { envValue, setEnv, DEFAULT_PATH } from '../steps/env.js';
import { readUserFiles } from '../steps/users.js';

export interface ContainerOptions {
  /** Command line after IMAGE; replaces the image's CMD when given. */
  args: string[];
  entrypoint?: string;
  env: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  mounts: MountSpec[];
  network: NetworkMode;
  /** Published ports (`-p`), with a private network. */
  ports?: readonly PortSpec[];
  limits: Limits;
  signal?: AbortSignal;
  onStdout(b: Buffer): void;
  onStderr(b: Buffer): void;
}

/** ENTRYPOINT and CMD combined like docker: --entrypoint drops the image's CMD, arguments replace CMD. */
export function containerArgv(config: { Entrypoint?: string[] | null; Cmd?: string[] | null } | undefined, args: string[], entrypoint?: string): string[] {
  const ep = entrypoint !== undefined ? (entrypoint === '' ? [] : [entrypoint]) : (config?.Entrypoint ?? []);
  const cmd = args.length > 0 ? args : entrypoint !== undefined ? [] : (config?.Cmd ?? []);
  return [...ep, ...cmd];
}

export async function runContainer(store: Store, executor: Executor, image: StoredImage, opts: ContainerOptions): Promise<RunResult> {
  const c = image.config.config;
  const argv = containerArgv(c, opts.args, opts.entrypoint);
  if (argv.length === 0) throw new UsageError('no command specified: the image has no ENTRYPOINT or CMD; give one after IMAGE');
  let env = [...(c?.Env ?? [])];
  if (envValue(env, 'PATH') === undefined) env.push(`PATH=${DEFAULT_PATH}`);
  for (const kv of opts.env) {
    const eq = kv.indexOf('=');
    env = setEnv(env, eq === -1 ? kv : kv.slice(0, eq), eq === -1 ? '' : kv.slice(eq + 1));
  }
  const hostname = opts.hostname ?? randomBytes(6).toString('hex');
  env = setEnv(env, 'HOSTNAME', hostname);

  const lowers = (await ensureSnapshots(store, image.manifest.layers, image.config.rootfs.diff_ids)).reverse();
  const work = await store.makeTempDir('run-');
  try {
    const upper = join(work, 'upper');
    await mkdir(upper);
    await mkdir(join(work, 'work'));
    const root = new RootFs({ upper, lowers, overlayForm: store.overlayForm });
    const userSpec = opts.user ?? c?.User ?? '';
    const files = await readUserFiles(root);
    let user: ResolvedUser;
    try {
      user = resolveRunUser(userSpec, files);
    } catch (err) {
      if (err instanceof UserResolutionError) throw new UsageError(`-u ${userSpec}: ${err.message}`);
      throw err;
    }
    if (envValue(env, 'HOME') === undefined) env.push(`HOME=${user.home}`);
    return await executor.run({
      rootfs: { lowerdirs: lowers, upperdir: upper, workdir: join(work, 'work'), whiteouts: store.overlayForm.whiteout },
      process: { args: argv, env, cwd: opts.workdir ?? (c?.WorkingDir || '/'), user: { uid: user.uid, gid: user.gid, groups: user.groups }, hostname },
      mounts: opts.mounts,
      network: opts.network,
      ...(opts.ports && opts.ports.length > 0 ? { ports: opts.ports } : {}),
      limits: opts.limits,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onStdout: opts.onStdout,
      onStderr: opts.onStderr,
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** `-v SRC:DST[:ro|rw]` (SRC an absolute host path). */
export function parseVolume(spec: string): MountSpec {
  const parts = spec.split(':');
  const [source, destination, mode] = parts;
  if (parts.length < 2 || parts.length > 3 || !source || !destination) throw new UsageError(`-v ${spec}: expected HOST-PATH:CONTAINER-PATH[:ro]`);
  if (!isAbsolute(source)) throw new UsageError(`-v ${spec}: the host path must be absolute (named volumes are not supported)`);
  if (!isAbsolute(destination)) throw new UsageError(`-v ${spec}: the container path must be absolute`);
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw new UsageError(`-v ${spec}: unknown mode ${JSON.stringify(mode)}: want ro or rw`);
  return { type: 'bind', source, destination, readonly: mode === 'ro' };
}

/** `--tmpfs DST[:opt,opt]` */
export function parseTmpfs(spec: string): MountSpec {
  const colon = spec.indexOf(':');
  const destination = colon === -1 ? spec : spec.slice(0, colon);
  if (!isAbsolute(destination)) throw new UsageError(`--tmpfs ${spec}: the container path must be absolute`);
  const options = colon === -1 ? [] : spec.slice(colon + 1).split(',').filter(Boolean);
  return { type: 'tmpfs', destination, options, readonly: options.includes('ro') };
}
