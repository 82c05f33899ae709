/**
 * Solves a build plan: each needed stage once (memoised), stages that do not depend
 * on each other concurrently, the instructions of a stage in order.
 */
import { isTsbuildError } from '@tsbuild/errors';
import { ensureSnapshots, hostPlatform, resolveImage, NotFoundError, LayerstoreError, type ImageSourceOptions, type Platform, type Store } from '@tsbuild/layerstore';
import { BuildError } from '../errors.js';
import { layersTree, type BuildContext, type SourceTree } from '../context/source-tree.js';
import { parseTrigger, type Instruction } from '../dockerfile/instructions/index.js';
import { ShellLex } from '../dockerfile/shell-lex.js';
import { stageByRef, type BuildPlan, type Stage } from '../plan/stages.js';
import { applyStep, LAYER_KINDS, type ConfigStepContext, type FsStepContext, type RunNetwork, type RunStepContext } from '../steps/index.js';
import type { EventSink, StepInfo } from './events.js';
import { imageState, lowerDirs, scratchState, withContainerConfig, type StageState } from './state.js';
import type { BuildCache, StepCache } from './cache.js';
import type { ContentChecksums } from '../context/checksum.js';
import type { Entitlement } from '../plan/entitlements.js';
import { baseForTarget, checkFromPlatform } from '../plan/stage-platform.js';
import type { Executor, Limits } from '@tsbuild/executor';
import type { BuildClock } from './build-time.js';

/** Build args passed to RUN without an ARG declaration, like BuildKit. */
export const PROXY_ARGS = new Set(['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY']);

export interface SolverOptions {
  store: Store;
  plan: BuildPlan;
  context: BuildContext;
  escape: '\\' | '`';
  buildArgs: ReadonlyMap<string, string>;
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  emit: EventSink;
  /** Scratch directory for empty source trees. */
  tmpDir: string;
  /** Runs RUN steps; created on first use when absent. */
  executor: () => Executor;
  /** Network of RUN steps that name none. */
  network: RunNetwork;
  /** What `--allow` granted (BuildKit's entitlements). */
  entitlements: ReadonlySet<Entitlement>;
  /** Resource limits of each RUN step. */
  limits?: Limits;
  /** Where base images come from (registry, --pull, platform); the store is the solver's. */
  images: Omit<ImageSourceOptions, 'store'>;
  cache: BuildCache;
  checksums: ContentChecksums;
  /** The Dockerfile's path: with the stage and step, where cache misses are explained. */
  dockerfile: string;
  /** Learns which steps ran and which came from the cache, for the build's time. */
  clock: BuildClock;
}

export class Solver {
  private readonly results = new Map<number, Promise<StageState>>();
  private readonly lex: ShellLex;
  /** The platform of the image (and of TARGETPLATFORM): every stage's must be this one. */
  private readonly target: Platform;
  private stepCounter = 0;
  readonly usedBuildArgs = new Set<string>();

  constructor(private readonly opts: SolverOptions) {
    this.lex = new ShellLex(opts.escape);
    this.target = opts.images.platform ?? hostPlatform();
  }

  solve(stage: Stage): Promise<StageState> {
    let p = this.results.get(stage.index);
    if (!p) {
      p = this.run(stage);
      p.catch(() => {}); // awaited by whoever needs it; avoid unhandled rejections for parallel waiters
      this.results.set(stage.index, p);
    }
    return p;
  }

  /** Solve every needed stage (independent ones run at the same time); returns the target's state. */
  async solveAll(): Promise<StageState> {
    const { plan } = this.opts;
    const all = plan.needed.map((s) => this.solve(s));
    await Promise.all(all);
    return this.solve(plan.target);
  }

  private stepName(stage: Stage, i: number, text: string): string {
    const label = stage.name ?? `stage-${stage.index}`;
    const shown = text.length > 200 ? `${text.slice(0, 197)}...` : text;
    return `[${label} ${i}/${stage.instructions.length + 1}] ${shown}`;
  }

  private async step<T>(name: string, fn: (step: StepInfo, mark: { cached: boolean }) => Promise<T>): Promise<T> {
    const step: StepInfo = { id: ++this.stepCounter, name };
    const started = performance.now();
    const mark = { cached: false };
    this.opts.emit({ type: 'step-start', step });
    try {
      const out = await fn(step, mark);
      this.opts.emit({ type: 'step-done', step, durationMs: performance.now() - started, cached: mark.cached });
      return out;
    } catch (err) {
      this.opts.emit({ type: 'step-error', step, durationMs: performance.now() - started, message: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  private async run(stage: Stage): Promise<StageState> {
    this.opts.signal?.throwIfAborted();
    let state = await this.step(this.stepName(stage, 1, stage.from.raw.original), () => this.base(stage));
    const triggers = state.config.config?.OnBuild ?? [];
    const instructions: Instruction[] = [];
    if (triggers.length > 0) {
      state = withContainerConfig(state, (c) => {
        const out = { ...c };
        delete out.OnBuild;
        return out;
      });
      for (const t of triggers) instructions.push(parseTrigger(t, stage.from.location));
    }
    instructions.push(...stage.instructions);
    let n = 1;
    for (const ins of instructions) {
      this.opts.signal?.throwIfAborted();
      n++;
      if (LAYER_KINDS.has(ins.kind)) {
        const current = state;
        const position = `${this.opts.dockerfile}\0${stage.index}\0${n}`;
        state = await this.step(this.stepName(stage, n, ins.raw.original), (step, mark) => {
          const stepCache: StepCache = {
            cache: this.opts.cache,
            position,
            onHit: (created) => {
              mark.cached = true;
              this.opts.clock.cached(created);
            },
            onMiss: (reason) => this.opts.emit({ type: 'step-progress', step, message: `cache miss: ${reason}` }),
            made: () => this.opts.clock.made(),
          };
          return this.dispatch(current, ins, stage, step, stepCache);
        });
      } else {
        // Config-only steps leave the cache key alone: every layer step's key holds what it
        // uses of the config (RUN its env, user, workdir; COPY its expanded paths), so a
        // LABEL or an unused ARG changes no cached step, as with BuildKit.
        state = await this.dispatch(state, ins, stage);
      }
    }
    return state;
  }

  private async base(stage: Stage): Promise<StageState> {
    if (stage.baseStage !== undefined) {
      const parent = await this.solve(this.opts.plan.stages[stage.baseStage]!);
      return { ...parent, args: new Map(), cmdSet: false };
    }
    checkFromPlatform(stage, this.lex, (n) => this.opts.plan.globalArgs.get(n)?.value, this.target);
    if (stage.image.toLowerCase() === 'scratch') return scratchState(this.target);
    return this.imageBase(stage.image, stage.from.location);
  }

  private async imageBase(name: string, location: Stage['from']['location']): Promise<StageState> {
    const { store } = this.opts;
    let resolved;
    try {
      resolved = await resolveImage(name, { ...this.opts.images, store, ...(this.opts.signal ? { signal: this.opts.signal } : {}) });
    } catch (err) {
      if (err instanceof NotFoundError) throw new BuildError('TSBUILD_SOURCE_NOT_FOUND', `base image ${JSON.stringify(name)}: ${err.message}`, { location, cause: err });
      if (err instanceof LayerstoreError) throw new BuildError('TSBUILD_SOURCE_NOT_FOUND', `base image ${name}: ${err.message}`, { location, cause: err });
      throw err;
    }
    const { image, base } = resolved;
    const snapshots = await ensureSnapshots(store, image.manifest.layers, image.config.rootfs.diff_ids);
    const layers = image.manifest.layers.map((descriptor, i) => ({ descriptor, diffId: image.config.rootfs.diff_ids[i]!, snapshot: snapshots[i]! }));
    return imageState(baseForTarget(name, image.config, this.target, location), layers, base);
  }

  private configContext(): ConfigStepContext {
    return {
      lex: this.lex,
      buildArg: (name) => {
        if (!this.opts.buildArgs.has(name)) return undefined;
        this.usedBuildArgs.add(name);
        return this.opts.buildArgs.get(name);
      },
      globalArg: (name) => {
        const g = this.opts.plan.globalArgs.get(name);
        if (g && this.opts.buildArgs.has(name)) this.usedBuildArgs.add(name);
        return g ? { value: g.value } : undefined;
      },
    };
  }

  private fsContext(stage: Stage, stepCache?: StepCache): FsStepContext {
    return {
      ...this.configContext(),
      stepCache: stepCache ?? { cache: this.opts.cache, position: '', onHit: (created) => this.opts.clock.cached(created), onMiss: () => {}, made: () => this.opts.clock.made() },
      checksums: this.opts.checksums,
      store: this.opts.store,
      context: this.opts.context,
      ...(this.opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: this.opts.sourceDateEpoch } : {}),
      ...(this.opts.signal ? { signal: this.opts.signal } : {}),
      fromSource: (ref) => this.fromSource(ref, stage),
    };
  }

  /** COPY --from: an earlier stage by name or index, else an image in the store. */
  private async fromSource(ref: string, stage: Stage): Promise<SourceTree> {
    const other = stageByRef(this.opts.plan.stages, ref, stage.index);
    if (other) {
      const state = await this.solve(other);
      return layersTree(lowerDirs(state), `stage ${JSON.stringify(other.name ?? String(other.index))}`, this.opts.tmpDir, state.cacheKey, this.opts.store.overlayForm);
    }
    if (/^\d+$/.test(ref) || this.opts.plan.stages.some((s) => s.name === ref.toLowerCase())) {
      throw new BuildError('TSBUILD_UNKNOWN_STAGE', `--from=${ref}: stage ${ref} is not defined before this one`);
    }
    try {
      const state = await this.imageBase(ref, stage.from.location);
      return layersTree(lowerDirs(state), `image ${JSON.stringify(ref)}`, this.opts.tmpDir, state.cacheKey, this.opts.store.overlayForm);
    } catch (err) {
      if (err instanceof BuildError && err.code === 'TSBUILD_SOURCE_NOT_FOUND') {
        throw new BuildError('TSBUILD_UNKNOWN_STAGE', `--from=${ref}: no stage named ${JSON.stringify(ref)} and no such image in the local store`);
      }
      throw err;
    }
  }

  private runContext(stage: Stage, step: StepInfo, stepCache?: StepCache): RunStepContext {
    const proxyArgs = new Map<string, string>();
    for (const [k, v] of this.opts.buildArgs) {
      if (PROXY_ARGS.has(k.toUpperCase())) {
        proxyArgs.set(k, v);
        this.usedBuildArgs.add(k);
      }
    }
    return {
      ...this.fsContext(stage, stepCache),
      executor: this.opts.executor,
      network: this.opts.network,
      ...(this.opts.limits ? { limits: this.opts.limits } : {}),
      entitlements: this.opts.entitlements,
      proxyArgs,
      step,
      emitLog: (stream, data) => this.opts.emit({ type: 'step-log', step, stream, data }),
    };
  }

  private async dispatch(state: StageState, ins: Instruction, stage: Stage, step?: StepInfo, stepCache?: StepCache): Promise<StageState> {
    try {
      return await applyStep(state, ins, {
        config: () => this.configContext(),
        fs: () => this.fsContext(stage, stepCache),
        run: () => this.runContext(stage, step ?? { id: 0, name: ins.raw.original }, stepCache),
      });
    } catch (err) {
      if (err instanceof BuildError) throw err.at(ins.location);
      // The layer store's or the executor's typed error: the step failed, at this line.
      if (isTsbuildError(err)) throw new BuildError('TSBUILD_STEP_FAILED', err.message, { cause: err, location: ins.location });
      throw systemError(err, ins);
    }
  }
}

/** A failed system call during a step, as a located error a user can read (no stack trace). */
function systemError(err: unknown, ins: Instruction): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return err;
  const target = (e as { dest?: string }).dest ?? e.path ?? '';
  const message = e.code === 'ENOSPC' || e.code === 'EDQUOT' ? `no space left on device (${e.syscall ?? 'write'} ${target})` : e.message;
  return new BuildError('TSBUILD_STEP_FAILED', `${ins.kind}: ${message}`, { cause: err, location: ins.location });
}
