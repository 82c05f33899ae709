/** ENV, LABEL and ARG: name/value lists in the `k=v k2=v2` form and the legacy `k value` form. */
import { BuildError } from '../../errors.js';
import type { RawInstruction } from '../parse.js';
import type { ArgInstruction, EnvInstruction, KeyValue, LabelInstruction } from './types.js';
import { Flags } from './flags.js';
import { parseWords } from './words.js';

function nameValues(raw: RawInstruction, escape: string): KeyValue[] {
  const words = parseWords(raw.args, escape);
  const err = (m: string) => new BuildError('TSBUILD_INVALID_ARGUMENT', m, { location: raw.location });
  if (words.length === 0) throw err(`${raw.keyword} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    // Legacy form: NAME VALUE..., the value being the rest of the line.
    const rest = raw.args.trim().slice(words[0]!.length).trim();
    if (rest === '') throw err(`${raw.keyword} must have two arguments`);
    return [{ key: words[0]!, value: rest }];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq === -1) throw err(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    if (eq === 0) throw err(`${raw.keyword} names can not be blank`);
    return { key: w.slice(0, eq), value: w.slice(eq + 1) };
  });
}

export function parseEnv(raw: RawInstruction, escape: string): EnvInstruction {
  new Flags(raw, {});
  return { kind: 'ENV', pairs: nameValues(raw, escape), location: raw.location, raw };
}

export function parseLabel(raw: RawInstruction, escape: string): LabelInstruction {
  new Flags(raw, {});
  return { kind: 'LABEL', pairs: nameValues(raw, escape), location: raw.location, raw };
}

export function parseArg(raw: RawInstruction, escape: string): ArgInstruction {
  new Flags(raw, {});
  const words = parseWords(raw.args, escape);
  if (words.length === 0) throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'ARG requires at least one argument', { location: raw.location });
  const args = words.map((w) => {
    const eq = w.indexOf('=');
    const name = eq === -1 ? w : w.slice(0, eq);
    if (name === '') throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'ARG names can not be blank', { location: raw.location });
    return eq === -1 ? { name } : { name, value: w.slice(eq + 1) };
  });
  return { kind: 'ARG', args, location: raw.location, raw };
}
