/** ENV, LABEL and ARG: name/value lists in the `k=v k2=v2` form and the legacy `k value` form. */
import { BuildError } from '../../errors.js';
import type { RawInstruction } from '../parse.js';
import type { ArgInstruction, EnvInstruction, KeyValue, LabelInstruction } from './types.js';
import { Flags } from './flags.js';
import { parseWords, TOKEN_WHITESPACE } from './words.js';

/**
 * The pairs as BuildKit's parser splits them (its parseNameVal), with the errors it
 * raises while parsing; none for no arguments (the caller reports that, after the flags).
 * Legacy form when the first word has no `=`: the name is the text up to the first
 * blank, quotes and all, and the value the rest of the line.
 */
export function nameValues(raw: RawInstruction, escape: string): KeyValue[] {
  const words = parseWords(raw.args, escape);
  const err = (m: string) => new BuildError('TSBUILD_INVALID_ARGUMENT', m, { location: raw.location });
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) {
    const m = TOKEN_WHITESPACE.exec(raw.args);
    if (!m) throw err(`${raw.keyword} must have two arguments`);
    return [{ key: raw.args.slice(0, m.index), value: raw.args.slice(m.index + m[0].length) }];
  }
  const bad = words.find((w) => !w.includes('='));
  if (bad !== undefined) throw err(`Syntax error - can't find = in ${JSON.stringify(bad)}. Must be of the form: name=value`);
  return words.map((w) => {
    const eq = w.indexOf('=');
    return { key: w.slice(0, eq), value: w.slice(eq + 1) };
  });
}

/** Parser errors first, then the flags, then BuildKit's instruction-level checks. */
function pairs(raw: RawInstruction, escape: string): KeyValue[] {
  const out = nameValues(raw, escape);
  new Flags(raw, {});
  const err = (m: string) => new BuildError('TSBUILD_INVALID_ARGUMENT', m, { location: raw.location });
  if (out.length === 0) throw err(`${raw.keyword} requires at least one argument`);
  if (out.some((p) => p.key === '')) throw err(`${raw.keyword} names can not be blank`);
  return out;
}

export function parseEnv(raw: RawInstruction, escape: string): EnvInstruction {
  return { kind: 'ENV', pairs: pairs(raw, escape), location: raw.location, raw };
}

export function parseLabel(raw: RawInstruction, escape: string): LabelInstruction {
  return { kind: 'LABEL', pairs: pairs(raw, escape), location: raw.location, raw };
}

export function parseArg(raw: RawInstruction, escape: string): ArgInstruction {
  const words = parseWords(raw.args, escape);
  if (words.length === 0) throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'ARG requires at least one argument', { location: raw.location });
  new Flags(raw, {});
  const args = words.map((w) => {
    const eq = w.indexOf('=');
    const name = eq === -1 ? w : w.slice(0, eq);
    if (name === '') throw new BuildError('TSBUILD_INVALID_ARGUMENT', 'ARG names can not be blank', { location: raw.location });
    return eq === -1 ? { name } : { name, value: w.slice(eq + 1) };
  });
  return { kind: 'ARG', args, location: raw.location, raw };
}
