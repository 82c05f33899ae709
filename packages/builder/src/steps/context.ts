/**
 * What a step sees of its build, from the narrowest to the widest: a config step
 * expands words and reads build args; a filesystem step (COPY, ADD, WORKDIR) also
 * reaches the store, the context, other stages and its cache; RUN also the sandbox.
 * The solver makes them (solve/solver.ts); steps never reach into it.
 */
import type { Store } from '@tsbuild/layerstore';
import type { Executor, Limits } from '@tsbuild/executor';
import type { ShellLex } from '../dockerfile/shell-lex.js';
import type { BuildContext, SourceTree } from '../context/source-tree.js';
import type { ContentChecksums } from '../context/checksum.js';
import type { Entitlement } from '../plan/entitlements.js';
import type { StepCache } from '../solve/cache.js';
import type { StepInfo } from '../solve/events.js';

export interface ConfigStepContext {
  lex: ShellLex;
  /** Value of a build arg given on the command line (marks it used). */
  buildArg(name: string): string | undefined;
  /** Value of a global ARG (declared before the first FROM), if declared there. */
  globalArg(name: string): { value: string | undefined } | undefined;
}

export interface FsStepContext extends ConfigStepContext {
  store: Store;
  context: BuildContext;
  sourceDateEpoch?: number;
  /** The filesystem of a stage or image named by COPY --from. */
  fromSource(name: string): Promise<SourceTree>;
  signal?: AbortSignal;
  stepCache: StepCache;
  /** Content checksums of context sources, for cache keys. */
  checksums: ContentChecksums;
}

/**
 * The network of a RUN step: `default` is a network namespace of its own with outbound
 * access through user-mode networking (the executor's `private`), as BuildKit gives
 * every RUN; `host` (needs --allow network.host when a RUN asks for it) and `none`.
 */
export type RunNetwork = 'default' | 'host' | 'none';

export interface RunStepContext extends FsStepContext {
  /** The sandbox, started on first use (a cached RUN never starts it). */
  executor: () => Executor;
  /** Network of a RUN that names none (`default` unless the build says otherwise). */
  network: RunNetwork;
  /** What `--allow` granted. */
  entitlements: ReadonlySet<Entitlement>;
  /** Resource limits of every RUN step (`--memory`, `--cpu-shares`, ...). */
  limits?: Limits;
  /** Build args given on the command line that BuildKit passes without an ARG (proxies). */
  proxyArgs: ReadonlyMap<string, string>;
  step: StepInfo;
  emitLog(stream: 'stdout' | 'stderr', data: Buffer): void;
}
