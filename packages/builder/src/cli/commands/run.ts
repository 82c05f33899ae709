/** `tsbuild run [options] IMAGE [ARG...]`: run an image in the sandbox; exit with its status. */
import { Store, defaultStoreRoot, ensureSnapshots, resolveImage, transaction } from '@tsbuild/layerstore';
import { CgroupUnavailableError, createExecutor, ExecutorError, resolveIsolation, type Isolation, type MountSpec } from '@tsbuild/executor';
import { BuildError, UsageError } from '../../errors.js';
import { limitError } from '../../solve/index.js';
import { parseTmpfs, parseVolume, runContainer } from '../../run/container.js';
import { parsePublish, parseRunNetwork } from '../../run/publish.js';
import { pullRenderer } from '../../progress/index.js';
import { RUN_OPTIONS } from '../argv.js';
import { list, registryFlags, type Command } from '../command.js';
import type { Io } from '../io.js';
import { limitFlags, parseLimits, type LimitFlags } from '../limit-flags.js';
import { openRegistry, type RegistryFlags } from '../registry.js';
import { parseIsolation } from '../isolation-flag.js';

export const run: Command = {
  command: 'run <image> [args..]',
  describe: 'Run a command in a new container from an image (its writable layer is thrown away)',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'store tag or ID, oci-archive:FILE[:NAME], oci:DIR[:NAME], docker-archive:FILE[:NAME]' })
      .options(RUN_OPTIONS),
  handler: (a, io) =>
    runImage(
      {
        image: a.image as string,
        args: [...io.containerArgs],
        env: list(a.env),
        volume: list(a.volume),
        tmpfs: list(a.tmpfs),
        network: a.network as string,
        publish: list(a.publish),
        ...registryFlags(a),
        limits: limitFlags(a),
        isolation: parseIsolation(a.isolation, io.env),
        ...(a.workdir !== undefined ? { workdir: a.workdir as string } : {}),
        ...(a.user !== undefined ? { user: a.user as string } : {}),
        ...(a.entrypoint !== undefined ? { entrypoint: a.entrypoint as string } : {}),
        ...(a.hostname !== undefined ? { hostname: a.hostname as string } : {}),
      },
      io,
    ),
  // A failure before the container ran: docker run's 125.
  failureStatus: 125,
};

interface RunArgs extends RegistryFlags {
  image: string;
  args: string[];
  env: string[];
  volume: string[];
  tmpfs: string[];
  /** `--memory`, `--cpus`, `--pids-limit`, ... as given. */
  limits: LimitFlags;
  network: string;
  /** `-p` specs. */
  publish?: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  isolation: Isolation;
}

/** Returns the container's exit status (0-255), which the CLI exits with. */
async function runImage(a: RunArgs, io: Io): Promise<number> {
  const network = parseRunNetwork(a.network);
  let ports = (a.publish ?? []).map(parsePublish);
  if (ports.length > 0 && network === 'none') throw new UsageError('-p: a container with --network none has no ports to publish');
  if (ports.length > 0 && network === 'host') {
    io.stderr.write('WARNING: Published ports are discarded when using host network mode\n');
    ports = [];
  }
  const limits = parseLimits(a.limits);
  const mounts: MountSpec[] = [...a.volume.map(parseVolume), ...a.tmpfs.map(parseTmpfs)];
  const env = a.env.map((kv) => {
    if (kv.startsWith('=') || kv === '') throw new UsageError(`-e ${JSON.stringify(kv)}: expected KEY=VALUE`);
    if (kv.includes('=')) return kv;
    const v = io.env[kv];
    return v === undefined ? undefined : `${kv}=${v}`;
  }).filter((x): x is string => x !== undefined);
  const { mode, reason } = (() => {
    try {
      return resolveIsolation(a.isolation);
    } catch (err) {
      throw err instanceof ExecutorError ? new BuildError('TSBUILD_UNSUPPORTED', err.message, { cause: err }) : err;
    }
  })();
  const notice = (m: string) => io.stderr.write(`tsbuild run: ${m}\n`);
  if (mode !== 'sandbox') notice(`isolation: ${mode} (${reason})`);
  const store = await Store.open(defaultStoreRoot(io.env));
  // The one worker makes the network and starts its helper while the image is resolved (not with -p: ports go to a helper when it starts).
  const executor = createExecutor({ poolSize: 1, isolation: mode, prewarmNetwork: mode === 'sandbox' && network === 'private' && ports.length === 0, onNotice: notice });
  const reg = await openRegistry(io, a, pullRenderer(io.stderr, false));
  const registry = reg.client;
  try {
    // Importing an archive and unpacking its layers (which checks their diff_ids) is one
    // transaction: an image that fails leaves nothing in the store.
    const image = await transaction(store, async () => {
      const img = (await resolveImage(a.image, { store, registry, signal: io.signal })).image;
      await ensureSnapshots(store, img.manifest.layers, img.config.rootfs.diff_ids);
      return img;
    });
    const result = await runContainer(store, executor, image, {
      args: a.args,
      ...(a.entrypoint !== undefined ? { entrypoint: a.entrypoint } : {}),
      env,
      ...(a.user !== undefined ? { user: a.user } : {}),
      ...(a.workdir !== undefined ? { workdir: a.workdir } : {}),
      ...(a.hostname !== undefined ? { hostname: a.hostname } : {}),
      mounts,
      network,
      ports,
      limits,
      signal: io.signal,
      onStdout: (b) => io.stdout.write(b),
      onStderr: (b) => io.stderr.write(b),
    }).catch((err: unknown) => {
      throw err instanceof CgroupUnavailableError ? limitError(err) : err;
    });
    if (result.setupError !== undefined) io.stderr.write(`tsbuild run: ${result.setupError}\n`);
    return result.exitCode;
  } catch (err) {
    // What the sandbox cannot do here (no user-mode networking helper, the kernel): a message, not a stack.
    if (err instanceof ExecutorError && err.code === 'TSBUILD_SANDBOX_UNSUPPORTED') throw new BuildError('TSBUILD_UNSUPPORTED', err.message, { cause: err });
    throw err;
  } finally {
    reg.close();
    await executor.close();
    await store.close();
  }
}
