/** `--help` is wrapped at the terminal's width (80 when not a terminal) between words, never inside one. */
import test from 'ava';
import { tsbuild } from './helpers/cli.js';

const COMMANDS = [[], ['build'], ['run'], ['pull'], ['push'], ['login'], ['logout'], ['images'], ['load'], ['save'], ['tag'], ['rmi'], ['inspect'], ['prune'], ['store'], ['history']];

async function help(command: string[], columns?: number): Promise<string> {
  const res = await tsbuild([...command, '--help'], { root: '/nonexistent', ...(columns !== undefined ? { env: { COLUMNS: String(columns) } } : {}) });
  if (res.code !== 0) throw new Error(`${command.join(' ')} --help exited ${res.code}: ${res.stderr}`);
  return res.stdout;
}

/**
 * The words of a text, sorted: the same multiset whatever the line breaks, unless a word
 * was cut. yargs' layout (cliui) sometimes puts a right-aligned hint like `[string]`
 * straight after a description that fills its column; that is not a cut word.
 */
function words(text: string): string[] {
  return text
    .replace(/(?<=\S)(?=\[(?:string|boolean|number|required|default:|choices:))/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .sort();
}

for (const command of COMMANDS) {
  const name = ['tsbuild', ...command].join(' ');
  test(`${name} --help: lines fit the width and every word stays whole`, async (t) => {
    const unwrapped = await help(command, 1000);
    for (const width of [undefined, 60, 100]) {
      const text = await help(command, width);
      const limit = width ?? 80;
      const long = text.split('\n').filter((l) => l.length > limit);
      t.deepEqual(long, [], `lines longer than ${limit} columns`);
      t.deepEqual(words(text), words(unwrapped), `at ${limit} columns, words were cut`);
    }
  });
}

test('help is really wrapped: a long description spans several lines at 80 columns', async (t) => {
  const narrow = await help(['build']);
  const wide = await help(['build'], 1000);
  t.true(narrow.split('\n').length > wide.split('\n').length);
  t.regex(narrow, /--registry-mirror\s+Mirror of docker\.io to try first \(repeatable; also\n\s+in the config file\)/);
});
