/**
 * RUN: the command runs in the sandbox over the stage's snapshots with a fresh upper
 * dir (layer-step.ts); the upper dir becomes the layer and, as it is already in overlay
 * form, the new layer's snapshot.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CgroupUnavailableError, ExecutorError, type RunResult } from '@tsbuild/executor';
import { BuildError } from '../errors.js';
import type { RunInstruction } from '../dockerfile/instructions/index.js';
import type { RunNetwork, RunStepContext } from './context.js';
import { layerStep } from './layer-step.js';
import { shellOf, withHistory, withLayer, type LayerRef, type StageState } from '../solve/state.js';
import { cachedLayer } from '../solve/cache.js';
import { stepUser } from './users.js';
import { limitError, oomNote } from './limits.js';
import { checkRunEntitlements } from '../plan/entitlements.js';

export const SANDBOX_HOSTNAME = 'buildkitsandbox';

export interface RunCommand {
  args: string[];
  /** Heredoc scripts to provide as executable files at /dev/pipes/<name>. */
  files: Array<{ name: string; content: string }>;
}

/** The argv a RUN instruction executes (and shows in history). */
export function runCommand(state: StageState, ins: RunInstruction): RunCommand {
  if (ins.command.form === 'exec') return { args: [...ins.command.args], files: [] };
  const [first] = ins.heredocs;
  if (first && ins.heredocs.length === 1 && /^<<-?\s*["']?[^\s"']+["']?$/.test(ins.command.text.trim())) {
    // `RUN <<EOF` alone: the heredoc is the script. With a #! line it runs as an
    // executable file (the kernel picks the interpreter), else through the shell.
    if (first.content.startsWith('#!')) return { args: [`/dev/pipes/${first.name}`], files: [{ name: first.name, content: first.content }] };
    return { args: [...shellOf(state), first.content], files: [] };
  }
  if (ins.heredocs.length > 0) {
    // Heredocs feeding a command: the shell reads them itself, as written.
    const bodies = ins.heredocs.map((h) => `${h.content}${h.name}`).join('\n');
    return { args: [...shellOf(state), `${ins.command.text}\n${bodies}`], files: [] };
  }
  return { args: [...shellOf(state), ins.command.text], files: [] };
}

/** Build args in scope, as `K=V` for the environment (ENV wins over ARG with the same name). */
function argEnv(state: StageState): string[] {
  const out: string[] = [];
  for (const [k, v] of state.args) if (v !== undefined) out.push(`${k}=${v}`);
  return out;
}

export async function applyRun(state: StageState, ins: RunInstruction, ctx: RunStepContext): Promise<StageState> {
  if (ins.mounts.length > 0) {
    throw new BuildError('TSBUILD_UNSUPPORTED', 'RUN --mount is not supported by this version of tsbuild', { location: ins.location });
  }
  checkRunEntitlements(ins, ctx.entitlements);
  if (ins.security === 'insecure') {
    throw new BuildError('TSBUILD_UNSUPPORTED', 'RUN --security=insecure is not allowed (no entitlement mechanism)', { location: ins.location });
  }
  const { args, files } = runCommand(state, ins);
  const env = state.config.config?.Env ?? [];
  const envNames = new Set(env.map((e) => e.split('=', 1)[0]));
  const buildArgs = argEnv(state).filter((kv) => !envNames.has(kv.split('=', 1)[0]));
  const proxies = [...ctx.proxyArgs].filter(([k]) => !envNames.has(k)).map(([k, v]) => `${k}=${v}`);
  const network: RunNetwork = ins.network === undefined || ins.network === 'default' ? ctx.network : ins.network;
  const workdir = state.config.config?.WorkingDir || '/';
  const userSpec = state.config.config?.User ?? '';
  const shownArgs = buildArgs.length > 0 ? `|${buildArgs.length} ${buildArgs.join(' ')} ` : '';
  const createdBy = `RUN ${shownArgs}${args.join(' ')} # buildkit`;
  // Proxies are left out of the key, like BuildKit: they do not change what a step makes.
  const inputs = { step: 'RUN', args, env: [...env, ...buildArgs], user: userSpec, workdir, network, files, sourceDateEpoch: ctx.sourceDateEpoch };
  const { key, layer, createdBy: shown } = await cachedLayer(state, ctx.stepCache, inputs, createdBy, () =>
    runInSandbox(state, ins, ctx, { args, files, env: [...env, ...buildArgs, ...proxies], workdir, userSpec, network }),
  );
  return { ...withHistory(withLayer(state, layer), { created_by: shown, comment: 'buildkit.dockerfile.v0' }), cacheKey: key };
}

async function runInSandbox(
  state: StageState,
  ins: RunInstruction,
  ctx: RunStepContext,
  p: { args: string[]; files: RunCommand['files']; env: string[]; workdir: string; userSpec: string; network: RunNetwork },
): Promise<LayerRef> {
  const { args, files } = p;
  return layerStep(state, { store: ctx.store, ...(ctx.sourceDateEpoch !== undefined ? { sourceDateEpoch: ctx.sourceDateEpoch } : {}) }, async (root, dirs) => {
    const work = await ctx.store.makeTempDir('overlay-work-');
    try {
      const user = await stepUser(p.userSpec, root, ins);
      const processEnv = [...p.env];
      if (!processEnv.some((e) => e.startsWith('HOME='))) processEnv.push(`HOME=${user.home}`);
      await mkdir(join(work, 'w'), { recursive: true });
      const mounts = [];
      for (const f of files) {
        const host = join(work, `pipe-${mounts.length}`);
        await writeFile(host, f.content, { mode: 0o755 });
        mounts.push({ type: 'bind' as const, source: host, destination: `/dev/pipes/${f.name}`, readonly: true });
      }
      const result: RunResult = await ctx
        .executor()
        .run({
          rootfs: { lowerdirs: dirs.lowers, upperdir: dirs.upper, workdir: join(work, 'w'), whiteouts: ctx.store.overlayForm.whiteout },
          process: { args, env: processEnv, cwd: p.workdir, user: { uid: user.uid, gid: user.gid, groups: user.groups }, hostname: SANDBOX_HOSTNAME },
          network: p.network === 'default' ? 'private' : p.network,
          mounts,
          ...(ctx.limits ? { limits: ctx.limits } : {}),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          onStdout: (b) => ctx.emitLog('stdout', b),
          onStderr: (b) => ctx.emitLog('stderr', b),
        })
        .catch((err: unknown) => {
          if (err instanceof CgroupUnavailableError) throw limitError(err, ins.location);
          // What this isolation cannot do (chroot: RUN --network=none), named at the step.
          if (err instanceof ExecutorError && err.code === 'TSBUILD_SANDBOX_UNSUPPORTED') throw new BuildError('TSBUILD_UNSUPPORTED', err.message, { location: ins.location, cause: err });
          throw err;
        });
      if (result.setupError !== undefined) {
        throw new BuildError('TSBUILD_STEP_FAILED', `RUN could not start ${JSON.stringify(args.join(' '))}: ${result.setupError}`, { location: ins.location });
      }
      if (result.exitCode !== 0) {
        let why = result.signal ? `killed by ${result.signal}` : `exit code: ${result.exitCode}`;
        if (result.oomKilled) why += ` (${oomNote(ctx.limits)})`;
        throw new BuildError('TSBUILD_STEP_FAILED', `process "${args.join(' ')}" did not complete successfully: ${why}`, { location: ins.location });
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
}
