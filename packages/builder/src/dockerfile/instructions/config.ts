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
import { fields } from './words.js';

function required(raw: RawInstruction, what = 'at least one argument'): string {
  const v = raw.args.trim();
  if (v === '') throw new BuildError('TSBUILD_INVALID_ARGUMENT', `${raw.keyword} requires ${what}`, { location: raw.location });
  return v;
}

export function parseFrom(raw: RawInstruction): FromInstruction {
  const flags = new Flags(raw, { platform: 'string' });
  const words = fields(raw.args);
  const err = (m: string) => new BuildError('TSBUILD_INVALID_ARGUMENT', m, { location: raw.location });
  if (words.length === 0) throw err('FROM requires either one or three arguments');
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
  const platform = flags.string('platform');
  if (platform !== undefined) out.platform = platform;
  return out;
}

export function parseWorkdir(raw: RawInstruction): WorkdirInstruction {
  new Flags(raw, {});
  return { kind: 'WORKDIR', path: required(raw, 'exactly one argument'), location: raw.location, raw };
}

export function parseUser(raw: RawInstruction): UserInstruction {
  new Flags(raw, {});
  return { kind: 'USER', user: required(raw, 'exactly one argument'), location: raw.location, raw };
}

export function parseExpose(raw: RawInstruction): ExposeInstruction {
  new Flags(raw, {});
  required(raw);
  return { kind: 'EXPOSE', ports: fields(raw.args), location: raw.location, raw };
}

export function parseVolume(raw: RawInstruction): VolumeInstruction {
  new Flags(raw, {});
  const paths = raw.json ?? fields(raw.args);
  if (paths.length === 0 || paths.some((p) => p.trim() === '')) {
    throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'VOLUME specified can not be an empty string', { location: raw.location });
  }
  return { kind: 'VOLUME', paths, location: raw.location, raw };
}

export function parseStopSignal(raw: RawInstruction): StopSignalInstruction {
  new Flags(raw, {});
  return { kind: 'STOPSIGNAL', signal: required(raw, 'exactly one argument'), location: raw.location, raw };
}

export function parseMaintainer(raw: RawInstruction): MaintainerInstruction {
  new Flags(raw, {});
  return { kind: 'MAINTAINER', name: required(raw, 'exactly one argument'), location: raw.location, raw };
}

export function parseOnbuild(raw: RawInstruction): OnbuildInstruction {
  new Flags(raw, {});
  const trigger = required(raw, 'at least one argument');
  const inner = /^\S+/.exec(trigger)![0].toUpperCase();
  if (inner === 'ONBUILD') throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed', { location: raw.location });
  if (inner === 'FROM' || inner === 'MAINTAINER') {
    throw new BuildError('TSBUILD_INVALID_ARGUMENT', `${inner} isn't allowed as an ONBUILD trigger`, { location: raw.location });
  }
  return { kind: 'ONBUILD', trigger, location: raw.location, raw };
}
