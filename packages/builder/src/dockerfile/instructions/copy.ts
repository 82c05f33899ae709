/** COPY and ADD. */
import { BuildError } from '../../errors.js';
import type { Heredoc, RawInstruction } from '../parse.js';
import { parseHeredocWord } from './heredoc.js';
import { Flags } from './flags.js';
import type { CopyInstruction } from './types.js';
import { fields } from './words.js';

/** BuildKit's MustParseHeredoc: a malformed marker is just a path. */
function heredocMarker(word: string) {
  try {
    return parseHeredocWord(word);
  } catch {
    return undefined;
  }
}

export function parseCopy(raw: RawInstruction): CopyInstruction {
  const isAdd = raw.keyword === 'ADD';
  const err = (m: string) => new BuildError('TSBUILD_INVALID_ARGUMENT', m, { location: raw.location });
  const words = raw.json ?? fields(raw.args);
  if (words.length < 2) {
    throw err(`${raw.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  const flags = new Flags(
    raw,
    isAdd
      ? { chown: 'string', chmod: 'string', link: 'bool', checksum: 'string', 'keep-git-dir': 'bool', exclude: 'list' }
      : { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'list' },
  );
  const dest = words[words.length - 1]!;
  if (heredocMarker(dest)) throw err(`${raw.keyword} cannot accept a heredoc as a destination`);
  // A source word that is a heredoc marker is a file with the heredoc's body (empty
  // when there is none, e.g. in the JSON form, which reads no heredoc bodies).
  const sources: string[] = [];
  const heredocs: Heredoc[] = [];
  for (const w of words.slice(0, -1)) {
    const marker = heredocMarker(w);
    if (!marker) {
      sources.push(w);
      continue;
    }
    const body = raw.heredocs.find((h) => h.name === marker.name);
    heredocs.push({ ...marker, content: body?.content ?? '' });
  }
  const chmod = flags.string('chmod');
  if (chmod !== undefined && !/^[0-7]{1,4}$/.test(chmod)) {
    throw err(`${raw.keyword} --chmod: invalid mode ${JSON.stringify(chmod)}: want an octal number such as 755`);
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
