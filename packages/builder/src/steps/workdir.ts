/** WORKDIR: sets the working directory and creates it (owned by the current USER, by BuildKit's --chown rules), as a layer. */
import { posix } from 'node:path';
import { BuildError } from '../errors.js';
import type { WorkdirInstruction } from '../dockerfile/instructions/index.js';
import type { FsStepContext } from './context.js';
import { layerStep } from './layer-step.js';
import { cachedLayer } from '../solve/cache.js';
import { expansionLookup, withContainerConfig, withHistory, withLayer, type StageState } from '../solve/state.js';
import { stepOwner } from './users.js';

export async function applyWorkdir(state: StageState, ins: WorkdirInstruction, ctx: FsStepContext): Promise<StageState> {
  let dir: string;
  try {
    dir = ctx.lex.processWord(ins.path, expansionLookup(state));
  } catch (err) {
    throw err instanceof BuildError ? err.at(ins.location) : err;
  }
  const previous = state.config.config?.WorkingDir || '/';
  const workdir = posix.resolve(previous, dir);
  const user = state.config.config?.User;
  const inputs = { step: 'WORKDIR', path: workdir, user, sourceDateEpoch: ctx.sourceDateEpoch };
  const { key, layer } = await cachedLayer(state, ctx.stepCache, inputs, `WORKDIR ${workdir}`, () => layerStep(state, { store: ctx.store, ...(ctx.sourceDateEpoch !== undefined ? { sourceDateEpoch: ctx.sourceDateEpoch } : {}) }, async (root) => {
    const owner = await stepOwner(user, root, ins);
    const cs = await root.resolve(workdir, { followFinal: true });
    const existing = await root.lookup(cs);
    if (existing && !existing.stat.isDirectory()) {
      throw new BuildError('TSBUILD_INVALID_ARGUMENT', `WORKDIR ${workdir}: not a directory`, { location: ins.location });
    }
    if (!existing) await root.ensureDir(cs, { mode: 0o755, uid: owner.uid, gid: owner.gid });
  }));
  const next = withContainerConfig(withLayer(state, layer), (c) => ({ ...c, WorkingDir: workdir }));
  return { ...withHistory(next, { created_by: `WORKDIR ${workdir}`, comment: 'buildkit.dockerfile.v0' }), cacheKey: key };
}
