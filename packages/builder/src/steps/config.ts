/**
 * Instructions that change only the image config: each is a pure function from one
 * stage state to the next, adding the history entry `docker build` would (empty_layer;
 * its time is stamped when the build ends, build-time.ts).
 */
import type { HealthConfig } from '@tsbuild/layerstore';
import { BuildError } from '../errors.js';
import type { ConfigStepContext } from './context.js';
import type {
  ArgInstruction,
  CmdInstruction,
  EnvInstruction,
  ExposeInstruction,
  HealthcheckInstruction,
  LabelInstruction,
  MaintainerInstruction,
  OnbuildInstruction,
  ShellInstruction,
  StopSignalInstruction,
  UserInstruction,
  VolumeInstruction,
} from '../dockerfile/instructions/index.js';
import { goDuration, goList, goQuoteList, goRune, goSetMap } from './go-format.js';
import { expansionLookup, shellOf, withContainerConfig, withHistory, type StageState } from '../solve/state.js';
import { setEnv } from './env.js';
import { validSignal } from './signals.js';

function expand(ctx: ConfigStepContext, state: StageState, word: string, where: { location: BuildError['location'] }): string {
  try {
    return ctx.lex.processWord(word, expansionLookup(state));
  } catch (err) {
    if (err instanceof BuildError && where.location) err.at(where.location);
    throw err;
  }
}

function history(state: StageState, createdBy: string): StageState {
  return withHistory(state, { created_by: createdBy, comment: 'buildkit.dockerfile.v0', empty_layer: true });
}

export function applyEnv(state: StageState, ins: EnvInstruction, ctx: ConfigStepContext): StageState {
  const pairs = ins.pairs.map((p) => [expand(ctx, state, p.key, ins), expand(ctx, state, p.value, ins)] as const);
  let env = state.config.config?.Env ?? [];
  for (const [k, v] of pairs) env = setEnv(env, k, v);
  const next = withContainerConfig(state, (c) => ({ ...c, Env: env }));
  return history(next, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
}

export function applyLabel(state: StageState, ins: LabelInstruction, ctx: ConfigStepContext): StageState {
  const pairs = ins.pairs.map((p) => [expand(ctx, state, p.key, ins), expand(ctx, state, p.value, ins)] as const);
  const labels = { ...state.config.config?.Labels };
  for (const [k, v] of pairs) labels[k] = v;
  const next = withContainerConfig(state, (c) => ({ ...c, Labels: labels }));
  return history(next, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
}

export function applyArg(state: StageState, ins: ArgInstruction, ctx: ConfigStepContext): StageState {
  const args = new Map(state.args);
  const shown: string[] = [];
  let current = state;
  for (const decl of ins.args) {
    const fromCli = ctx.buildArg(decl.name);
    const global = ctx.globalArg(decl.name);
    const dflt = decl.value !== undefined ? expand(ctx, current, decl.value, ins) : global?.value;
    args.set(decl.name, fromCli ?? dflt);
    shown.push(decl.value !== undefined ? `${decl.name}=${dflt}` : decl.name);
    current = { ...current, args: new Map(args) };
  }
  return history({ ...state, args }, `ARG ${shown.join(' ')}`);
}

export function applyUser(state: StageState, ins: UserInstruction, ctx: ConfigStepContext): StageState {
  const user = expand(ctx, state, ins.user, ins);
  return history(withContainerConfig(state, (c) => ({ ...c, User: user })), `USER ${user}`);
}

export function applyExpose(state: StageState, ins: ExposeInstruction, ctx: ConfigStepContext): StageState {
  const ports: Record<string, Record<string, never>> = { ...state.config.config?.ExposedPorts };
  const added: string[] = [];
  for (const word of ins.ports) {
    for (const p of parsePorts(expand(ctx, state, word, ins), ins)) {
      ports[p] = {};
      added.push(p);
    }
  }
  return history(withContainerConfig(state, (c) => ({ ...c, ExposedPorts: ports })), `EXPOSE ${goSetMap([...new Set(added)])}`);
}

function parsePorts(spec: string, ins: ExposeInstruction): string[] {
  const m = /^(?:([0-9.]+|\[[0-9a-fA-F:]+\]):)?(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  const bad = () => new BuildError('TSBUILD_INVALID_ARGUMENT', `EXPOSE: invalid port ${JSON.stringify(spec)}: want PORT[-PORT][/tcp|udp|sctp]`, { location: ins.location });
  if (!m) throw bad();
  const start = Number(m[2]);
  const end = m[3] === undefined ? start : Number(m[3]);
  if (start > 65535 || end > 65535 || end < start) throw bad();
  const proto = (m[4] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

export function applyVolume(state: StageState, ins: VolumeInstruction, ctx: ConfigStepContext): StageState {
  const volumes: Record<string, Record<string, never>> = { ...state.config.config?.Volumes };
  const paths = ins.paths.map((p) => expand(ctx, state, p, ins));
  for (const p of paths) {
    if (p.trim() === '') throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'VOLUME specified can not be an empty string', { location: ins.location });
    volumes[p] = {};
  }
  return history(withContainerConfig(state, (c) => ({ ...c, Volumes: volumes })), `VOLUME ${goList(paths)}`);
}

export function applyStopSignal(state: StageState, ins: StopSignalInstruction, ctx: ConfigStepContext): StageState {
  const signal = expand(ctx, state, ins.signal, ins);
  if (!validSignal(signal)) throw new BuildError('TSBUILD_INVALID_ARGUMENT', `STOPSIGNAL: invalid signal ${JSON.stringify(signal)}`, { location: ins.location });
  return history(withContainerConfig(state, (c) => ({ ...c, StopSignal: signal })), `STOPSIGNAL ${signal}`);
}

export function applyShell(state: StageState, ins: ShellInstruction, _ctx: ConfigStepContext): StageState {
  return history(withContainerConfig(state, (c) => ({ ...c, Shell: [...ins.shell] })), `SHELL ${goList(ins.shell)}`);
}

export function applyCmd(state: StageState, ins: CmdInstruction, _ctx: ConfigStepContext): StageState {
  const args = ins.command.form === 'exec' ? [...ins.command.args] : [...shellOf(state), ins.command.text.trim()];
  if (ins.kind === 'CMD') {
    const next = withContainerConfig(state, (c) => ({ ...c, Cmd: args }));
    return history({ ...next, cmdSet: true }, `CMD ${goQuoteList(args)}`);
  }
  const next = withContainerConfig(state, (c) => {
    const out = { ...c, Entrypoint: args };
    if (!state.cmdSet) delete out.Cmd;
    return out;
  });
  return history(next, `ENTRYPOINT ${goQuoteList(args)}`);
}

export function applyHealthcheck(state: StageState, ins: HealthcheckInstruction, _ctx: ConfigStepContext): StageState {
  const hc: HealthConfig = { Test: [...ins.test] };
  if (ins.interval) hc.Interval = ins.interval;
  if (ins.timeout) hc.Timeout = ins.timeout;
  if (ins.startPeriod) hc.StartPeriod = ins.startPeriod;
  if (ins.startInterval) hc.StartInterval = ins.startInterval;
  if (ins.retries) hc.Retries = ins.retries;
  const shown = `&{${goQuoteList(ins.test)} "${goDuration(ins.interval ?? 0)}" "${goDuration(ins.timeout ?? 0)}" "${goDuration(ins.startPeriod ?? 0)}" ${goRune(ins.retries ?? 0)}}`;
  return history(withContainerConfig(state, (c) => ({ ...c, Healthcheck: hc })), `HEALTHCHECK ${shown}`);
}

export function applyOnbuild(state: StageState, ins: OnbuildInstruction): StageState {
  return withContainerConfig(state, (c) => ({ ...c, OnBuild: [...(c.OnBuild ?? []), ins.trigger] }));
}

export function applyMaintainer(state: StageState, ins: MaintainerInstruction, ctx: ConfigStepContext): StageState {
  const name = expand(ctx, state, ins.name, ins);
  return history({ ...state, config: { ...state.config, author: name } }, `MAINTAINER ${name}`);
}
