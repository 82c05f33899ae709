/** RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK: commands in exec (JSON) or shell form. */
import { BuildError } from '../../errors.js';
import { parseJsonArray, type RawInstruction } from '../parse.js';
import { Flags } from './flags.js';
import type { CmdInstruction, Command, HealthcheckInstruction, RunInstruction, ShellInstruction } from './types.js';

function command(raw: RawInstruction, text = raw.args, json = raw.json): Command {
  if (json) return { form: 'exec', args: json };
  return { form: 'shell', text };
}

export function parseRun(raw: RawInstruction): RunInstruction {
  const flags = new Flags(raw, { mount: 'list', network: 'string', security: 'string' });
  const network = flags.string('network');
  if (network !== undefined && !['default', 'none', 'host'].includes(network)) {
    throw flags.error(`invalid --network value ${JSON.stringify(network)}: want default, none or host`);
  }
  const security = flags.string('security');
  if (security !== undefined && !['sandbox', 'insecure'].includes(security)) {
    throw flags.error(`invalid --security value ${JSON.stringify(security)}: want sandbox or insecure`);
  }
  if (raw.args.trim() === '' && raw.heredocs.length === 0) {
    throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'RUN requires at least one argument', { location: raw.location });
  }
  return {
    kind: 'RUN',
    command: command(raw),
    mounts: flags.list('mount').map((spec) => ({ spec })),
    ...(network ? { network: network as 'default' | 'none' | 'host' } : {}),
    ...(security ? { security: security as 'sandbox' | 'insecure' } : {}),
    heredocs: raw.heredocs,
    location: raw.location,
    raw,
  };
}

export function parseCmd(raw: RawInstruction): CmdInstruction {
  new Flags(raw, {});
  const kind = raw.keyword as 'CMD' | 'ENTRYPOINT';
  return { kind, command: command(raw), location: raw.location, raw };
}

export function parseShell(raw: RawInstruction): ShellInstruction {
  new Flags(raw, {});
  if (!raw.json) throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'SHELL requires the arguments to be in JSON form', { location: raw.location });
  if (raw.json.length === 0) throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'SHELL requires at least one argument', { location: raw.location });
  return { kind: 'SHELL', shell: raw.json, location: raw.location, raw };
}

export function parseHealthcheck(raw: RawInstruction): HealthcheckInstruction {
  const flags = new Flags(raw, { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' });
  const err = (m: string) => new BuildError('TSBUILD_INVALID_ARGUMENT', m, { location: raw.location });
  const m = /^(\S+)\s*([\s\S]*)$/.exec(raw.args.trim());
  if (!m) throw err('HEALTHCHECK requires an argument');
  const type = m[1]!.toUpperCase();
  const base = { kind: 'HEALTHCHECK' as const, location: raw.location, raw };
  if (type === 'NONE') {
    if (m[2]!.trim() !== '') throw err('HEALTHCHECK NONE takes no arguments');
    if (raw.flags.length > 0) throw err('HEALTHCHECK NONE takes no flags');
    return { ...base, test: ['NONE'] };
  }
  if (type !== 'CMD') throw err(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const rest = m[2]!;
  if (rest.trim() === '') throw err('Missing command after HEALTHCHECK CMD');
  const json = parseJsonArray(rest);
  const test = json ? ['CMD', ...json] : ['CMD-SHELL', rest.trim()];
  const out: HealthcheckInstruction = { ...base, test };
  const durations: Array<[string, 'interval' | 'timeout' | 'startPeriod' | 'startInterval']> = [
    ['interval', 'interval'],
    ['timeout', 'timeout'],
    ['start-period', 'startPeriod'],
    ['start-interval', 'startInterval'],
  ];
  for (const [flag, field] of durations) {
    const v = flags.string(flag);
    if (v === undefined) continue;
    const ns = parseDuration(v);
    if (ns === undefined) throw err(`HEALTHCHECK --${flag}: invalid duration ${JSON.stringify(v)}`);
    if (ns !== 0 && ns < 1_000_000) throw err(`HEALTHCHECK --${flag} cannot be less than 1ms`);
    out[field] = ns;
  }
  const retries = flags.string('retries');
  if (retries !== undefined) {
    if (!/^-?\d+$/.test(retries)) throw err(`HEALTHCHECK --retries: invalid number ${JSON.stringify(retries)}`);
    const n = Number(retries);
    if (n < 0) throw err('HEALTHCHECK --retries cannot be negative');
    out.retries = n;
  }
  return out;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds ("1m30s", "500ms", "0"); undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let sign = 1;
  if (text.startsWith('-') || text.startsWith('+')) {
    sign = text[0] === '-' ? -1 : 1;
    pos = 1;
  }
  re.lastIndex = pos;
  let matched = false;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
    matched = true;
  }
  if (!matched || pos !== text.length) return undefined;
  return Math.round(sign * total);
}
