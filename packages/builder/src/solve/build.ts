/**
 * `build()`: Dockerfile + context -> an image in the store, tagged. Everything that
 * can be checked without touching the store (parsing, stages, flags, the context)
 * is checked first; a build that fails later removes the blobs and snapshots it
 * created, so a failed build leaves the store as it found it.
 */
import { readFile, rm } from 'node:fs/promises';
import { createExecutor, resolveIsolation, type Executor, type Isolation, type Limits } from '@tsbuild/executor';
import { resolve } from 'node:path';
import { familiarString, formatPlatform, hostPlatform, isHostPlatform, parseTag, trackChanges, LayerstoreError, type Platform, type RegistryClient, type Store, type StoredImage } from '@tsbuild/layerstore';
import { BuildError } from '../errors.js';
import { openContext } from '../context/source-tree.js';
import { parse } from '../dockerfile/instructions/index.js';
import { planBuild } from '../plan/stages.js';
import type { EventSink } from './events.js';
import { BuildCache } from './cache.js';
import { BuildClock, stampHistory } from './build-time.js';
import { ContentChecksums } from '../context/checksum.js';
import { PROXY_ARGS, Solver } from './solver.js';
import { checkEntitlements, type Entitlement } from '../plan/entitlements.js';
import type { RunNetwork } from '../steps/context.js';
import { withContainerConfig } from './state.js';
import { platformArgs } from '../plan/platform.js';

export interface BuildOptions {
  store: Store;
  contextDir: string;
  /** Path of the Dockerfile (default: CONTEXT/Dockerfile). */
  dockerfile?: string;
  tags?: string[];
  buildArgs?: ReadonlyMap<string, string>;
  target?: string;
  /** Extra labels (`--label`). */
  labels?: ReadonlyMap<string, string>;
  /** SOURCE_DATE_EPOCH: clamp every time in the image to this (seconds). */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  onEvent?: EventSink;
  /** Runs RUN steps (default: the executor of `isolation`, created on first RUN). */
  executor?: Executor;
  /** How RUN steps are isolated (default `auto`: the sandbox where it can start, else chroot); said once when not the sandbox. */
  isolation?: Isolation;
  /** Network of RUN steps unless a step says otherwise (default: `default`, a network of its own, like BuildKit). */
  network?: RunNetwork;
  /** BuildKit's entitlements (`--allow network.host`): RUN --network=host needs network.host. */
  allow?: ReadonlySet<Entitlement>;
  /** Resource limits of each RUN step (`docker build --memory`, `--cpu-shares`, ...). */
  limits?: Limits;
  /** The registry client for base images not in the store (created on first use). */
  registry?: () => RegistryClient;
  /** Ask the registry again what base image tags point at (`--pull`). */
  pull?: boolean;
  /** The image's platform (default and, until cross builds exist, only: the host's). */
  platform?: Platform;
  /** Do not reuse cached steps (`--no-cache`); what is built still fills the cache. */
  noCache?: boolean;
}

export interface BuildResult {
  image: StoredImage;
  /** Tags written, familiar form (`app:latest`). */
  tags: string[];
  warnings: string[];
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const emit: EventSink = opts.onEvent ?? (() => {});
  const started = performance.now();
  const warnings: string[] = [];
  const warn = (message: string, location?: { file: string; startLine: number }) => {
    warnings.push(location ? `${location.file}:${location.startLine}: ${message}` : message);
    emit({ type: 'warning', message, ...(location ? { location } : {}) });
  };

  // One platform for the image config and the automatic ARGs: this machine's (for now).
  if (opts.platform && !isHostPlatform(opts.platform)) {
    throw new BuildError('TSBUILD_UNSUPPORTED', `platform ${formatPlatform(opts.platform)}: cross-platform builds are not supported yet (this machine builds ${formatPlatform(hostPlatform())})`);
  }
  const target = hostPlatform();
  const tags = (opts.tags ?? []).map((t) => {
    try {
      return familiarString(parseTag(t));
    } catch (err) {
      throw new BuildError('TSBUILD_USAGE', `-t ${t}: ${(err as Error).message}`);
    }
  });
  const dockerfilePath = resolve(opts.dockerfile ?? resolve(opts.contextDir, 'Dockerfile'));
  const fileLabel = opts.dockerfile ? displayName(opts.dockerfile) : 'Dockerfile';
  let text: string;
  try {
    text = await readFile(dockerfilePath, 'utf8');
  } catch (err) {
    throw new BuildError('TSBUILD_CONTEXT_NOT_FOUND', `cannot read Dockerfile ${dockerfilePath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const df = parse(text, fileLabel);
  for (const w of df.parsed.warnings) warn(w.message, w.location);
  const buildArgs = opts.buildArgs ?? new Map<string, string>();
  const plan = planBuild(df, { buildArgs, platformArgs: platformArgs(target), ...(opts.target !== undefined ? { target: opts.target } : {}) });
  const context = await openContext(resolve(opts.contextDir), dockerfilePath);
  // Before anything runs, as BuildKit refuses the whole build (ONBUILD triggers are checked as they run).
  const entitlements = opts.allow ?? new Set<Entitlement>();
  checkEntitlements(plan.needed.flatMap((s) => s.instructions), entitlements);
  emit({ type: 'build-start', dockerfile: dockerfilePath, context: context.dir, stages: plan.needed.length });

  const store = opts.store;
  const changes = trackChanges(store);
  const tmpDir = await store.makeTempDir('build-');
  let ownExecutor: Executor | undefined;
  const checksums = new ContentChecksums(store, context.dir);
  const cache = new BuildCache(store, { useCache: !opts.noCache });
  const clock = new BuildClock(opts.sourceDateEpoch);
  // One pre-started sandbox worker per RUN still to come, up to 4: a worker serves one
  // run and takes ~40 ms of CPU to start, so back-to-back RUN steps need several ready.
  const runSteps = plan.needed.reduce((n, s) => n + s.instructions.filter((i) => i.kind === 'RUN').length, 0);
  // Pooled workers prepare the default network of the RUN steps ahead (its helper starts while they idle).
  const prewarmNetwork = (opts.network ?? 'default') === 'default';
  const executor = () => opts.executor ?? (ownExecutor ??= isolatedExecutor(opts.isolation ?? 'auto', emit, { poolSize: Math.min(4, Math.max(1, runSteps)), prewarmNetwork }));
  try {
    const solver = new Solver({
      store,
      plan,
      context,
      escape: df.parsed.escape,
      buildArgs,
      emit,
      tmpDir,
      executor,
      network: opts.network ?? 'default',
      entitlements,
      ...(opts.limits ? { limits: opts.limits } : {}),
      cache,
      checksums,
      clock,
      dockerfile: dockerfilePath,
      images: {
        ...(opts.registry ? { registry: opts.registry } : {}),
        ...(opts.pull ? { pull: true } : {}),
        platform: target,
      },
      ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    let state = await solver.solveAll();
    const unused = [...plan.buildArgNames].filter((n) => !solver.usedBuildArgs.has(n) && !plan.globalArgs.has(n) && !predefinedArg(n));
    if (unused.length > 0) warn(`one or more build-args [${unused.join(' ')}] were not consumed`);
    if (opts.labels && opts.labels.size > 0) {
      state = withContainerConfig(state, (c) => ({ ...c, Labels: { ...c.Labels, ...Object.fromEntries(opts.labels!) } }));
    }
    // One time for everything this build added (build-time.ts): an unchanged rebuild is the same image.
    const config = stampHistory(state.config, clock.time(state.config));
    const annotations: Record<string, string> = {};
    if (state.base) {
      annotations['org.opencontainers.image.base.name'] = state.base.name;
      annotations['org.opencontainers.image.base.digest'] = state.base.digest;
    }
    const image = await store.putImage(config, state.layers.map((l) => l.descriptor), annotations);
    for (const t of tags) await store.tag(image, t);
    if (tags.length === 0) await store.recordUnnamed(image);
    changes.commit();
    await checksums.save().catch(() => {});
    emit({ type: 'build-done', imageId: image.id, durationMs: performance.now() - started });
    return { image, tags, warnings };
  } catch (err) {
    // Bad input leaves the store exactly as it was; a failed step (a RUN that exits 1)
    // keeps the cache of the steps before it, like BuildKit.
    if (isInputError(err)) await cache.forgetSaved().catch(() => {});
    await changes.rollback().catch(() => {});
    if (err instanceof LayerstoreError && !(err instanceof BuildError)) {
      throw new BuildError('TSBUILD_STEP_FAILED', err.message, { cause: err });
    }
    throw err;
  } finally {
    await ownExecutor?.close();
    await rm(tmpDir, { recursive: true, force: true });
  }
}

/** The executor of the isolation asked for, said once (as a notice) when it is not the full sandbox. */
function isolatedExecutor(isolation: Isolation, emit: EventSink, opts: { poolSize: number; prewarmNetwork: boolean }): Executor {
  const { mode, reason } = resolveIsolation(isolation);
  if (mode === 'sandbox') return createExecutor({ ...opts, isolation: mode });
  emit({ type: 'notice', message: `isolation: ${mode} (${reason})` });
  return createExecutor({ poolSize: opts.poolSize, isolation: mode, onNotice: (message) => emit({ type: 'notice', message }) });
}

/** Build args BuildKit accepts without an ARG: the proxy variables and SOURCE_DATE_EPOCH. */
function predefinedArg(name: string): boolean {
  const n = name.toUpperCase();
  return PROXY_ARGS.has(n) || n === 'SOURCE_DATE_EPOCH';
}

const INPUT_ERRORS = new Set([
  'TSBUILD_DOCKERFILE_EMPTY',
  'TSBUILD_DOCKERFILE_SYNTAX',
  'TSBUILD_UNKNOWN_INSTRUCTION',
  'TSBUILD_UNKNOWN_FLAG',
  'TSBUILD_INVALID_ARGUMENT',
  'TSBUILD_NO_FROM',
  'TSBUILD_UNKNOWN_STAGE',
  'TSBUILD_EXPANSION',
  'TSBUILD_CONTEXT_NOT_FOUND',
  'TSBUILD_CONTEXT_ESCAPE',
  'TSBUILD_SOURCE_NOT_FOUND',
  'TSBUILD_DOCKERIGNORE',
  'TSBUILD_UNSUPPORTED',
  'TSBUILD_USAGE',
]);

/** Errors in what the user gave (Dockerfile, flags, context), as opposed to a step that failed. */
function isInputError(err: unknown): boolean {
  return err instanceof BuildError && INPUT_ERRORS.has(err.code);
}

function displayName(path: string): string {
  return path.split('/').pop() || path;
}
