/**
 * The steps: one function per instruction family, each from one stage state to the
 * next. `applyStep` picks it by the instruction's kind; the solver gives the contexts,
 * made only for a step that needs them (a cached RUN never starts the sandbox).
 *
 *   config.ts    ENV LABEL ARG USER EXPOSE VOLUME STOPSIGNAL SHELL CMD ENTRYPOINT
 *                HEALTHCHECK ONBUILD MAINTAINER: the image config and history only
 *   workdir.ts   WORKDIR    \
 *   copy.ts      COPY, ADD   > a layer each, through layer-step.ts, cached (solve/cache.ts)
 *   run.ts       RUN        /
 */
import { BuildError } from '../errors.js';
import type { Instruction } from '../dockerfile/instructions/index.js';
import type { StageState } from '../solve/state.js';
import * as cfg from './config.js';
import type { ConfigStepContext, FsStepContext, RunStepContext } from './context.js';
import { applyCopy } from './copy.js';
import { applyRun } from './run.js';
import { applyWorkdir } from './workdir.js';

export type { ConfigStepContext, FsStepContext, RunNetwork, RunStepContext } from './context.js';

/** Kinds of instruction that make a layer, so a build step with progress; the rest only change the config. */
export const LAYER_KINDS: ReadonlySet<Instruction['kind']> = new Set(['COPY', 'ADD', 'WORKDIR', 'RUN']);

export interface StepContexts {
  config(): ConfigStepContext;
  fs(): FsStepContext;
  run(): RunStepContext;
}

export async function applyStep(state: StageState, ins: Instruction, ctx: StepContexts): Promise<StageState> {
  switch (ins.kind) {
    case 'ENV':
      return cfg.applyEnv(state, ins, ctx.config());
    case 'LABEL':
      return cfg.applyLabel(state, ins, ctx.config());
    case 'ARG':
      return cfg.applyArg(state, ins, ctx.config());
    case 'USER':
      return cfg.applyUser(state, ins, ctx.config());
    case 'EXPOSE':
      return cfg.applyExpose(state, ins, ctx.config());
    case 'VOLUME':
      return cfg.applyVolume(state, ins, ctx.config());
    case 'STOPSIGNAL':
      return cfg.applyStopSignal(state, ins, ctx.config());
    case 'SHELL':
      return cfg.applyShell(state, ins, ctx.config());
    case 'CMD':
    case 'ENTRYPOINT':
      return cfg.applyCmd(state, ins, ctx.config());
    case 'HEALTHCHECK':
      return cfg.applyHealthcheck(state, ins, ctx.config());
    case 'ONBUILD':
      return cfg.applyOnbuild(state, ins);
    case 'MAINTAINER':
      return cfg.applyMaintainer(state, ins, ctx.config());
    case 'WORKDIR':
      return applyWorkdir(state, ins, ctx.fs());
    case 'COPY':
    case 'ADD':
      return applyCopy(state, ins, ctx.fs());
    case 'RUN':
      return applyRun(state, ins, ctx.run());
    case 'FROM':
      throw new BuildError('TSBUILD_DOCKERFILE_SYNTAX', 'unexpected FROM', { location: ins.location });
  }
}
