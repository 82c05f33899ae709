/** RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK: commands in exec (JSON) or shell form. */
import { BuildError } from '../../errors.js';
import type { RawInstruction } from '../parse.js';
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
  // A RUN without arguments is accepted, as BuildKit does (it runs `sh -c ""`).
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
  if (raw.args === '' || raw.json?.length === 0) throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'SHELL requires at least one argument', { location: raw.location });
  if (!raw.json) throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'SHELL requires the arguments to be in JSON form', { location: raw.location });
  return { kind: 'SHELL', shell: raw.json, location: raw.location, raw };
}

/** BuildKit's order: arguments, then (except for NONE, which ignores them) flags, then the type. */
export function parseHealthcheck(raw: RawInstruction): HealthcheckInstruction {
  const err = (m: string) => new BuildError('TSBUILD_INVALID_ARGUMENT', m, { location: raw.location });
  const m = /^(\S+)\s*([\s\S]*)$/.exec(raw.args);
  if (!m) throw err('HEALTHCHECK requires at least one argument');
  const type = m[1]!.toUpperCase();
  const rest = m[2]!;
  const base = { kind: 'HEALTHCHECK' as const, location: raw.location, raw };
  if (type === 'NONE') {
    if (rest !== '') throw err('HEALTHCHECK NONE takes no arguments');
    return { ...base, test: ['NONE'] };
  }
  const flags = new Flags(raw, { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' });
  if (type !== 'CMD') throw err(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  if (rest === '' || raw.json?.length === 0) throw err('Missing command after HEALTHCHECK CMD');
  const out: HealthcheckInstruction = { ...base, test: raw.json ? ['CMD', ...raw.json] : ['CMD-SHELL', rest] };
  const durations: Array<[string, 'interval' | 'timeout' | 'startPeriod' | 'startInterval']> = [
    ['interval', 'interval'],
    ['timeout', 'timeout'],
    ['start-period', 'startPeriod'],
    ['start-interval', 'startInterval'],
  ];
  for (const [flag, field] of durations) {
    const v = flags.string(flag);
    if (v === undefined || v === '') continue;
    const ns = parseDuration(v);
    if (typeof ns === 'string') throw err(ns);
    if (ns !== 0 && ns < 1_000_000) throw err(`Interval ${JSON.stringify(flag)} cannot be less than 1ms`);
    out[field] = ns;
  }
  const retries = flags.string('retries');
  if (retries !== undefined && retries !== '') {
    const n = /^[+-]?\d+$/.test(retries) ? Number(retries) : NaN;
    if (Number.isNaN(n)) throw err(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    if (n < -(2 ** 31) || n >= 2 ** 31) throw err(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: value out of range`);
    if (n < 0) throw err(`--retries cannot be negative (${n})`);
    out.retries = n;
  }
  return out;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, '\u00b5s': 1e3, '\u03bcs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds ("1m30s", "500ms", "0"); Go's error message when invalid. */
export function parseDuration(text: string): number | string {
  const invalid = `time: invalid duration ${JSON.stringify(text)}`;
  let pos = /^[-+]/.test(text) ? 1 : 0;
  const sign = text.startsWith('-') ? -1 : 1;
  if (text.slice(pos) === '0') return 0;
  if (pos === text.length) return invalid;
  let total = 0;
  const re = /(\d*)(?:\.(\d*))?([^\d.]*)/y;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text)!;
    if (m[1] === '' && (m[2] ?? '') === '') return invalid;
    if (m[3] === '') return `time: missing unit in duration ${JSON.stringify(text)}`;
    const unit = UNITS[m[3]!];
    if (unit === undefined) return `time: unknown unit ${JSON.stringify(m[3])} in duration ${JSON.stringify(text)}`;
    total += Number(`${m[1] || '0'}.${m[2] ?? ''}0`) * unit;
    pos = re.lastIndex;
  }
  return Math.round(sign * total);
}
