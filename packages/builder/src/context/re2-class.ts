/**
 * Character classes of the RE2 subset `.dockerignore` patterns turn into: code point
 * ranges (Perl `\d\s\w`, POSIX `[:name:]`, literal ranges), Unicode general categories
 * (`\pL`, `\PN`) and negation. Membership is a binary search, so a class costs the same
 * whatever it holds.
 */

export type Ranges = [number, number][];

export const MAX_RUNE = 0x10ffff;
const r = (a: string, b = a): [number, number] => [a.codePointAt(0)!, b.codePointAt(0)!];

export const PERL_CLASSES: Record<string, Ranges> = {
  d: [r('0', '9')],
  s: [r('\t', '\n'), r('\f', '\r'), r(' ')],
  w: [r('0', '9'), r('A', 'Z'), r('_'), r('a', 'z')],
};

export const POSIX_CLASSES: Record<string, Ranges> = {
  alnum: [r('0', '9'), r('A', 'Z'), r('a', 'z')],
  alpha: [r('A', 'Z'), r('a', 'z')],
  ascii: [[0, 0x7f]],
  blank: [r('\t'), r(' ')],
  cntrl: [[0, 0x1f], [0x7f, 0x7f]],
  digit: [r('0', '9')],
  graph: [[0x21, 0x7e]],
  lower: [r('a', 'z')],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [r('\t', '\r'), r(' ')],
  upper: [r('A', 'Z')],
  word: [r('0', '9'), r('A', 'Z'), r('_'), r('a', 'z')],
  xdigit: [r('0', '9'), r('A', 'F'), r('a', 'f')],
};

/** The one-letter Unicode general categories RE2 accepts as `\pX`. */
export const UNICODE_CATEGORIES = 'CLMNPSZ';

export function complement(ranges: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of merge(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}

function merge(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

const categoryTests = new Map<string, RegExp>();

/** `\pL` (`negated`: `\PL`) as a test of one code point. */
function categoryTest(name: string, negated: boolean): RegExp {
  const key = `${negated ? 'P' : 'p'}${name}`;
  let re = categoryTests.get(key);
  if (!re) {
    re = new RegExp(`^\\${negated ? 'P' : 'p'}{${name}}$`, 'u');
    categoryTests.set(key, re);
  }
  return re;
}

/** A set of code points; built once per class of a pattern. */
export class CharClass {
  readonly #bounds: Uint32Array;
  readonly #categories: RegExp[];
  readonly #negated: boolean;

  constructor(ranges: Ranges, opts: { categories?: { name: string; negated: boolean }[]; negated?: boolean } = {}) {
    const merged = merge(ranges);
    this.#bounds = new Uint32Array(merged.length * 2);
    merged.forEach(([lo, hi], i) => {
      this.#bounds[2 * i] = lo;
      this.#bounds[2 * i + 1] = hi;
    });
    this.#categories = (opts.categories ?? []).map((c) => categoryTest(c.name, c.negated));
    this.#negated = opts.negated ?? false;
  }

  has(cp: number): boolean {
    return this.#inRanges(cp) || this.#inCategories(cp) ? !this.#negated : this.#negated;
  }

  #inRanges(cp: number): boolean {
    const b = this.#bounds;
    let lo = 0;
    let hi = b.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cp < b[2 * mid]!) hi = mid - 1;
      else if (cp > b[2 * mid + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  #inCategories(cp: number): boolean {
    if (this.#categories.length === 0) return false;
    const ch = String.fromCodePoint(cp);
    return this.#categories.some((re) => re.test(ch));
  }
}
