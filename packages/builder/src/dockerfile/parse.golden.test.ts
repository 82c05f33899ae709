/**
 * Golden directories for the Dockerfile parser: every `fixtures/parse/<case>/` holds a
 * `Dockerfile` and the `expected.json` it must parse to (both steps: raw instructions
 * with their line ranges, then each one typed, or the error it raises). A new case is
 * a new directory. The expectations follow BuildKit (see fixtures/parse/README.md);
 * after a deliberate change, regenerate with
 *
 *     UPDATE_GOLDEN=1 npx ava dist/dockerfile/parse.golden.test.js
 *
 * and review the diff before committing it.
 */
import test from 'ava';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { BuildError } from '../errors.js';
import { parse, toInstruction } from './instructions/index.js';
import { parseDockerfile, type RawFlag, type RawInstruction } from './parse.js';

// Tests run from dist/dockerfile/; the fixtures are at the repository root.
const root = new URL('../../../../fixtures/parse/', import.meta.url);
const update = process.env.UPDATE_GOLDEN === '1';

interface ErrorJson {
  code: string;
  message: string;
  /** `Dockerfile:LINE`, or `Dockerfile:FIRST-LAST` for a range. */
  at: string | null;
}

function errorJson(err: unknown): ErrorJson {
  if (!(err instanceof BuildError)) throw err;
  const l = err.location;
  const at = l ? `${l.file}:${l.startLine}${l.endLine !== l.startLine ? `-${l.endLine}` : ''}` : null;
  return { code: err.code, message: err.message, at };
}

const flagJson = (f: RawFlag) => (f.value === undefined ? `--${f.name}` : `--${f.name}=${f.value}`);

/** The raw instruction as plain JSON; empty lists and absent fields left out. */
function rawJson(raw: RawInstruction, withLines = true): Record<string, unknown> {
  return {
    ...(withLines ? { lines: [raw.location.startLine, raw.location.endLine] } : {}),
    keyword: raw.keyword,
    ...(raw.flags.length > 0 ? { flags: raw.flags.map(flagJson) } : {}),
    args: raw.args,
    ...(raw.json ? { json: raw.json } : {}),
    ...(raw.trigger ? { trigger: rawJson(raw.trigger, false) } : {}),
    ...(raw.heredocs.length > 0 ? { heredocs: raw.heredocs } : {}),
  };
}

function normalise(text: string): Record<string, unknown> {
  let parsed;
  try {
    parsed = parseDockerfile(text);
  } catch (err) {
    return { error: errorJson(err) };
  }
  return {
    escape: parsed.escape,
    ...(parsed.syntax !== undefined ? { syntax: parsed.syntax } : {}),
    ...(parsed.warnings.length > 0 ? { warnings: parsed.warnings.map((w) => ({ message: w.message, lines: [w.location.startLine, w.location.endLine] })) } : {}),
    instructions: parsed.instructions.map((raw) => {
      try {
        const { raw: _raw, location: _location, ...typed } = toInstruction(raw, parsed.escape);
        return { ...rawJson(raw), typed };
      } catch (err) {
        return { ...rawJson(raw), error: errorJson(err) };
      }
    }),
  };
}

const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('there are golden cases', (t) => {
  t.true(cases.length > 0);
});

for (const name of cases) {
  test(name, (t) => {
    const dir = new URL(`${name}/`, root);
    const text = readFileSync(new URL('Dockerfile', dir), 'utf8');
    const actual = normalise(text);

    // Both steps together fail with the first error the golden file records.
    const entries = (actual.instructions ?? []) as Array<{ error?: ErrorJson }>;
    const first = (actual.error as ErrorJson | undefined) ?? entries.find((e) => e.error)?.error;
    let whole: ErrorJson | undefined;
    try {
      parse(text);
    } catch (err) {
      whole = errorJson(err);
    }
    t.deepEqual(whole, first, 'parse() must throw the first recorded error');

    const expectedFile = new URL('expected.json', dir);
    if (update) {
      writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
      t.log(`wrote ${name}/expected.json`);
      return;
    }
    t.deepEqual(actual, JSON.parse(readFileSync(expectedFile, 'utf8')) as unknown);
  });
}
