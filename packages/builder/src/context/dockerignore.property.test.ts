/**
 * Property tests of `.dockerignore` (fast-check; run count, seed and per-case bound from
 * `@tsbuild/layerstore/testing`): any file parses or fails with a BuildError, and its
 * matcher answers for any path; one pattern excludes a path exactly when a backtracking
 * RegExp built from BuildKit's translation rules matches the path or one of its parents;
 * and a matcher's answers do not depend on the order it is asked in (it caches per
 * directory).
 */
import test from 'ava';
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { bounded, outcome, propertyParameters, Tally } from '@tsbuild/layerstore/testing';
import { BuildError } from '../errors.js';
import { IgnoreMatcher, parseDockerignore } from './dockerignore.js';

const buildCode = (err: unknown): string | undefined => (err instanceof BuildError ? err.code : undefined);

const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('*', '**', '?', '/', '!', '#', '[', ']', '^', '-', '\\', '.', '..', ' ', '\t', '\n', '\r', 'a', 'b', '[[:alpha:]]', '[:', '\\d', '\\pL', '\\b', '\uFEFF', 'é') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 3 }) },
);
const pathPiece = fc.constantFrom('a', 'b', 'ab', '.x', 'é', '😀', ' ', '*', '[', '\\');
const anyPath = fc.array(fc.array(pathPiece, { minLength: 1, maxLength: 3 }).map((p) => p.join('')), { minLength: 1, maxLength: 4 }).map((p) => p.join('/'));

test('any .dockerignore parses or fails with a BuildError, and its matcher answers for any path', (t) => {
  const tally = new Tally();
  fc.assert(
    fc.property(
      fc.array(piece, { maxLength: 40 }).map((p) => p.join('')),
      fc.array(anyPath, { minLength: 1, maxLength: 5 }),
      bounded((text: string, paths: string[]) => {
        tally.add(
          outcome(() => {
            const matcher = new IgnoreMatcher(parseDockerignore(text));
            for (const p of paths) {
              const excluded = matcher.excludes(p);
              if (excluded) matcher.canSkipDir(p);
            }
          }, buildCode),
        );
      }),
    ),
    propertyParameters(),
  );
  t.log(`.dockerignore: ${tally}`);
  t.true(tally.has('ok') && tally.has('TSBUILD_DOCKERIGNORE'), String(tally));
});

/** A clean pattern: `**` only as a whole segment (BuildKit's `**x` has rules of its own). */
const segment = fc.oneof(
  fc.constantFrom('a', 'b', 'ab', '.x', 'é', '*', '?', 'a*', '*b', 'a?', '[ab]', '[^a]', '[a-c]x', '\\*', '**'),
);
const pattern = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const path = fc.array(fc.constantFrom('a', 'b', 'ab', 'ba', '.x', 'x', 'é', '*', 'ax', 'cx'), { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));

/** moby/patternmatcher's translation, written out again: a RegExp over the whole path. */
function reference(p: string): RegExp {
  let src = '';
  const segs = p.split('/');
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '**') {
      src += last ? '.*' : '(.*/)?';
      return;
    }
    for (let k = 0; k < seg.length; k++) {
      const c = seg[k]!;
      if (c === '*') src += '[^/]*';
      else if (c === '?') src += '[^/]';
      else if (c === '\\') src += `\\${seg[++k]}`;
      else if (c === '[') {
        const end = seg.indexOf(']', k);
        src += seg.slice(k, end + 1);
        k = end;
      } else src += c.replace(/[.]/g, '\\.');
    }
    if (!last) src += '/';
  });
  return new RegExp(`^${src}$`, 'u');
}

test('one pattern excludes a path when a RegExp of it matches the path or a parent', (t) => {
  const tally = new Tally();
  fc.assert(
    fc.property(
      pattern,
      fc.array(path, { minLength: 1, maxLength: 5 }),
      bounded((p: string, paths: string[]) => {
        const parsed = parseDockerignore(`${p}\n`);
        strictEqual(parsed.length, 1);
        strictEqual(parsed[0]!.text, p, 'the pattern is clean as written');
        const matcher = new IgnoreMatcher(parsed);
        const re = reference(p);
        for (const q of paths) {
          const parts = q.split('/');
          const want = parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')));
          strictEqual(matcher.excludes(q), want, `${p} on ${q}`);
          tally.add(String(want));
        }
      }),
    ),
    propertyParameters(),
  );
  t.log(`excluded: ${tally}`);
  t.true(tally.has('true') && tally.has('false'));
});

test("a matcher's answers do not depend on the order of the questions", (t) => {
  t.plan(0);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), pattern), { minLength: 1, maxLength: 5 }),
      fc.array(path, { minLength: 1, maxLength: 8 }),
      bounded((lines: [boolean, string][], paths: string[]) => {
        const patterns = parseDockerignore(lines.map(([not, p]) => `${not ? '!' : ''}${p}`).join('\n'));
        const forward = new IgnoreMatcher(patterns);
        const backward = new IgnoreMatcher(patterns);
        const a = paths.map((q) => forward.excludes(q));
        const b = paths.slice().reverse().map((q) => backward.excludes(q)).reverse();
        deepStrictEqual(a, b);
        deepStrictEqual(paths.map((q) => new IgnoreMatcher(patterns).excludes(q)), a, 'a fresh matcher per path agrees');
      }),
    ),
    propertyParameters(),
  );
});
