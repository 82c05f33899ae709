/**
 * The state of a stage between instructions: the image config being built, its layers
 * (with the snapshot directory of each), and what only exists at build time (ARGs in
 * scope, whether CMD was set in this stage). States are values: every instruction
 * returns a new one.
 */
import { hostPlatform, type ContainerConfig, type Descriptor, type Digest, type HistoryEntry, type ImageConfig } from '@tsbuild/layerstore';
import { cacheKey } from './cache-key.js';
import { DEFAULT_PATH, envValue } from '../steps/env.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export interface LayerRef {
  descriptor: Descriptor;
  diffId: Digest;
  /** Host directory of the unpacked layer in overlay form (a store snapshot). */
  snapshot: string;
}

export interface StageState {
  readonly config: ImageConfig;
  readonly layers: readonly LayerRef[];
  /** ARGs declared in this stage, with their values (undefined: declared, not set). */
  readonly args: ReadonlyMap<string, string | undefined>;
  /** CMD was set by an instruction of this stage (so ENTRYPOINT does not reset it). */
  readonly cmdSet: boolean;
  /** The base image, for the org.opencontainers.image.base.* annotations. */
  readonly base?: { name: string; digest: Digest };
  /** Build-cache key of this state: the base and every step so far (cache-key.ts). */
  readonly cacheKey: Digest;
}

export function scratchState(platform = hostPlatform()): StageState {
  return {
    config: {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [] },
      history: [],
    },
    layers: [],
    args: new Map(),
    cmdSet: false,
    cacheKey: cacheKey('scratch', { platform }),
  };
}

/** A stage starting from an existing image (its layers already have snapshots). */
export function imageState(config: ImageConfig, layers: LayerRef[], base?: { name: string; digest: Digest }): StageState {
  const env = config.config?.Env ?? [];
  const withPath = env.some((e) => e.startsWith('PATH=')) ? env : [...env, `PATH=${DEFAULT_PATH}`];
  return {
    config: { ...config, config: { ...config.config, Env: withPath, WorkingDir: config.config?.WorkingDir || '/' } },
    layers,
    args: new Map(),
    cmdSet: false,
    ...(base ? { base } : {}),
    cacheKey: cacheKey('image', { manifest: base?.digest ?? null, diffIds: config.rootfs.diff_ids, config: configKeyPart(config) }),
  };
}

/** The parts of an image config that later steps can depend on (times and history left out). */
export function configKeyPart(config: ImageConfig): Record<string, unknown> {
  return { config: config.config, author: config.author, architecture: config.architecture, os: config.os, variant: config.variant };
}

export function withContainerConfig(state: StageState, change: (c: ContainerConfig) => ContainerConfig): StageState {
  return { ...state, config: { ...state.config, config: change({ ...state.config.config }) } };
}

export function withHistory(state: StageState, entry: HistoryEntry): StageState {
  return { ...state, config: { ...state.config, history: [...(state.config.history ?? []), entry] } };
}

export function withLayer(state: StageState, layer: LayerRef): StageState {
  return {
    ...state,
    layers: [...state.layers, layer],
    config: { ...state.config, rootfs: { type: 'layers', diff_ids: [...state.config.rootfs.diff_ids, layer.diffId] } },
  };
}

/** Variables for expansion: stage ARGs, overridden by the image's ENV (Docker's precedence). */
export function expansionLookup(state: StageState): (name: string) => string | undefined {
  const env = state.config.config?.Env;
  return (name) => {
    const fromEnv = envValue(env, name);
    if (fromEnv !== undefined) return fromEnv;
    return state.args.get(name);
  };
}

/** Snapshot directories of the state's layers, top first (overlay lowerdir order). */
export function lowerDirs(state: StageState): string[] {
  return state.layers.map((l) => l.snapshot).reverse();
}

export function shellOf(state: StageState): string[] {
  return state.config.config?.Shell ?? DEFAULT_SHELL;
}
