/** FROM and the instructions that only change the image config. */
import { BuildError } from '../../errors.js';
import type { RawInstruction } from '../parse.js';
import { Flags } from './flags.js';
import type {
  ExposeInstruction,
  FromInstruction,
  MaintainerInstruction,
  OnbuildInstruction,
  StopSignalInstruction,
  UserInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from './types.js';
import { nameValues } from './kv.js';
import { fields, trimGo } from './words.js';

/** BuildKit checks the argument count before the flags. */
function required(raw: RawInstruction, what = 'at least one argument'): string {
  if (raw.args === '') throw new BuildError('TSBUILD_INVALID_ARGUMENT', `${raw.keyword} requires ${what}`, { location: raw.location });
  return raw.args;
}

export function parseFrom(raw: RawInstruction): FromInstruction {
  const words = fields(raw.args);
  const err = (m: string) => new BuildError('TSBUILD_INVALID_ARGUMENT', m, { location: raw.location });
  if (words.length !== 1 && !(words.length === 3 && words[1]!.toLowerCase() === 'as')) {
    throw err('FROM requires either one or three arguments');
  }
  const out: FromInstruction = { kind: 'FROM', image: words[0]!, location: raw.location, raw };
  if (words.length === 3) {
    const alias = words[2]!;
    if (!/^[a-zA-Z][a-zA-Z0-9-_.]*$/.test(alias)) {
      throw err(`invalid name for build stage: ${JSON.stringify(alias)}, name can't start with a number or contain symbols`);
    }
    out.alias = alias.toLowerCase();
  }
  const flags = new Flags(raw, { platform: 'string' });
  const platform = flags.string('platform');
  if (platform !== undefined) out.platform = platform;
  return out;
}

export function parseWorkdir(raw: RawInstruction): WorkdirInstruction {
  const path = required(raw, 'exactly one argument');
  new Flags(raw, {});
  return { kind: 'WORKDIR', path, location: raw.location, raw };
}

export function parseUser(raw: RawInstruction): UserInstruction {
  const user = required(raw, 'exactly one argument');
  new Flags(raw, {});
  return { kind: 'USER', user, location: raw.location, raw };
}

export function parseExpose(raw: RawInstruction): ExposeInstruction {
  required(raw);
  new Flags(raw, {});
  return { kind: 'EXPOSE', ports: fields(raw.args), location: raw.location, raw };
}

export function parseVolume(raw: RawInstruction): VolumeInstruction {
  const paths = raw.json ?? fields(raw.args);
  if (paths.length === 0) throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'VOLUME requires at least one argument', { location: raw.location });
  new Flags(raw, {});
  const trimmed = paths.map((p) => trimGo(p));
  if (trimmed.some((p) => p === '')) {
    throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'VOLUME specified can not be an empty string', { location: raw.location });
  }
  return { kind: 'VOLUME', paths: trimmed, location: raw.location, raw };
}

/** BuildKit never looks at STOPSIGNAL's flags, so neither do we. */
export function parseStopSignal(raw: RawInstruction): StopSignalInstruction {
  return { kind: 'STOPSIGNAL', signal: required(raw, 'exactly one argument'), location: raw.location, raw };
}

export function parseMaintainer(raw: RawInstruction): MaintainerInstruction {
  const name = required(raw, 'exactly one argument');
  new Flags(raw, {});
  return { kind: 'MAINTAINER', name, location: raw.location, raw };
}

/**
 * The trigger is stored as written, with its heredoc bodies appended so that parsing
 * it again in a child build reads them. BuildKit checks at this point only what its
 * parser checks for any instruction (ENV/LABEL pairs, JSON of strings: see parse.ts).
 */
export function parseOnbuild(raw: RawInstruction, escape: string): OnbuildInstruction {
  const args = required(raw, 'at least one argument');
  const inner = raw.trigger!;
  if (inner.keyword === 'ENV' || inner.keyword === 'LABEL') nameValues(inner, escape);
  new Flags(raw, {});
  if (inner.keyword === 'ONBUILD') throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed', { location: raw.location });
  if (inner.keyword === 'FROM' || inner.keyword === 'MAINTAINER') {
    throw new BuildError('TSBUILD_INVALID_ARGUMENT', `${inner.keyword} isn't allowed as an ONBUILD trigger`, { location: raw.location });
  }
  const trigger = args + raw.heredocs.map((h) => `\n${h.content}${h.name}`).join('');
  return { kind: 'ONBUILD', trigger, location: raw.location, raw };
}
