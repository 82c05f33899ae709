/** COPY and ADD. */
import { BuildError } from '../../errors.js';
import type { RawInstruction } from '../parse.js';
import { Flags } from './flags.js';
import type { CopyInstruction } from './types.js';
import { fields } from './words.js';

export function parseCopy(raw: RawInstruction): CopyInstruction {
  const isAdd = raw.keyword === 'ADD';
  const flags = new Flags(
    raw,
    isAdd
      ? { chown: 'string', chmod: 'string', link: 'bool', checksum: 'string', 'keep-git-dir': 'bool', exclude: 'list' }
      : { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'list' },
  );
  const words = raw.json ?? fields(raw.args);
  const heredocNames = new Set(raw.heredocs.map((h) => h.name));
  if (words.length < 2) {
    throw new BuildError('TSBUILD_INVALID_ARGUMENT', `${raw.keyword} requires at least two arguments, but only ${words.length} provided. Destination could not be determined`, { location: raw.location });
  }
  const dest = words[words.length - 1]!;
  const sources: string[] = [];
  const heredocs = [];
  for (const w of words.slice(0, -1)) {
    const m = /^<<-?['"]?([^'"]*)['"]?$/.exec(w);
    const h = m && heredocNames.has(m[1]!) ? raw.heredocs.find((x) => x.name === m[1]) : undefined;
    if (h) heredocs.push(h);
    else sources.push(w);
  }
  const chmod = flags.string('chmod');
  if (chmod !== undefined && !/^[0-7]{1,4}$/.test(chmod)) {
    throw new BuildError('TSBUILD_INVALID_ARGUMENT', `${raw.keyword} --chmod: invalid mode ${JSON.stringify(chmod)}: want an octal number such as 755`, { location: raw.location });
  }
  const out: CopyInstruction = {
    kind: raw.keyword as 'COPY' | 'ADD',
    sources,
    dest,
    heredocs,
    link: flags.bool('link'),
    parents: flags.bool('parents'),
    exclude: flags.list('exclude'),
    location: raw.location,
    raw,
  };
  const from = flags.string('from');
  if (from !== undefined) out.from = from;
  const chown = flags.string('chown');
  if (chown !== undefined) out.chown = chown;
  if (chmod !== undefined) out.chmod = chmod;
  const checksum = flags.string('checksum');
  if (checksum !== undefined) out.checksum = checksum;
  if (flags.has('keep-git-dir')) out.keepGitDir = flags.bool('keep-git-dir');
  return out;
}
