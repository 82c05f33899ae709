/**
 * A regular expression as a Thompson NFA, built fragment by fragment (each with a start
 * and the exits still to be patched), in time and space linear in the expression. The
 * parser (re2-parse.ts) drives it; re2-dfa.ts runs the result.
 *
 *     const b = new ProgramBuilder();
 *     const a = b.char(0x61);                 // `a`
 *     b.finish(b.concat(b.assert(Assertion.BeginText), b.star(a)));   // `^a*`, then Match
 *     new Program(b.build()).search('aab');   // true
 */
import type { CharClass } from './re2-class.js';

/** Instruction kinds. */
export const Op = { Char: 0, Class: 1, AnyNotNewline: 2, Split: 3, Assert: 4, Nop: 5, Match: 6 } as const;
export type Op = (typeof Op)[keyof typeof Op];

/** What an `Op.Assert` checks at the current position. */
export const Assertion = { BeginText: 0, EndText: 1, WordBoundary: 2, NotWordBoundary: 3 } as const;
export type Assertion = (typeof Assertion)[keyof typeof Assertion];

/** A piece of program: where it starts and the exits still to be patched (`pc * 2 + field`). */
export interface Fragment {
  start: number;
  outs: number[];
}

/**
 * The compiler's assembler: one method per construct of the pattern language (a character, a
 * class, an assertion, concatenation, the three repetitions), which is why it has more than
 * seven; only the compiler in this folder uses it.
 */
export class ProgramBuilder {
  readonly #op: Op[] = [];
  readonly #arg: number[] = [];
  readonly #out: number[] = [];
  readonly #out1: number[] = [];
  readonly #classes: CharClass[] = [];
  #start = -1;

  #emit(op: Op, arg = 0): number {
    this.#op.push(op);
    this.#arg.push(arg);
    this.#out.push(-1);
    this.#out1.push(-1);
    return this.#op.length - 1;
  }

  #patch(outs: number[], target: number): void {
    for (const o of outs) (o & 1 ? this.#out1 : this.#out)[o >> 1] = target;
  }

  char(cp: number): Fragment {
    const pc = this.#emit(Op.Char, cp);
    return { start: pc, outs: [pc * 2] };
  }

  charClass(cls: CharClass): Fragment {
    this.#classes.push(cls);
    const pc = this.#emit(Op.Class, this.#classes.length - 1);
    return { start: pc, outs: [pc * 2] };
  }

  anyNotNewline(): Fragment {
    const pc = this.#emit(Op.AnyNotNewline);
    return { start: pc, outs: [pc * 2] };
  }

  assert(kind: Assertion): Fragment {
    const pc = this.#emit(Op.Assert, kind);
    return { start: pc, outs: [pc * 2] };
  }

  empty(): Fragment {
    const pc = this.#emit(Op.Nop);
    return { start: pc, outs: [pc * 2] };
  }

  concat(a: Fragment | undefined, b: Fragment): Fragment {
    if (!a) return b;
    this.#patch(a.outs, b.start);
    return { start: a.start, outs: b.outs };
  }

  star(e: Fragment): Fragment {
    const split = this.#emit(Op.Split);
    this.#out[split] = e.start;
    this.#patch(e.outs, split);
    return { start: split, outs: [split * 2 + 1] };
  }

  plus(e: Fragment): Fragment {
    const split = this.#emit(Op.Split);
    this.#out[split] = e.start;
    this.#patch(e.outs, split);
    return { start: e.start, outs: [split * 2 + 1] };
  }

  optional(e: Fragment): Fragment {
    const split = this.#emit(Op.Split);
    const join = this.#emit(Op.Nop);
    this.#out[split] = e.start;
    this.#out1[split] = join;
    this.#patch(e.outs, join);
    return { start: split, outs: [join * 2] };
  }

  /** Ends the program: `e` followed by Match, starting at `e`. */
  finish(e: Fragment): void {
    const match = this.#emit(Op.Match);
    this.#patch(e.outs, match);
    this.#start = e.start;
  }

  build(): Code {
    // A bug, never a user's failure: the compiler always finishes before it builds.
    if (this.#start < 0) throw new Error('ProgramBuilder: finish() was not called');
    return {
      start: this.#start,
      op: Uint8Array.from(this.#op),
      arg: Int32Array.from(this.#arg),
      out: Int32Array.from(this.#out),
      out1: Int32Array.from(this.#out1),
      classes: this.#classes,
    };
  }
}

/** A finished program: instructions in parallel arrays, run by re2-dfa.ts. */
export interface Code {
  start: number;
  op: Uint8Array;
  arg: Int32Array;
  out: Int32Array;
  out1: Int32Array;
  classes: CharClass[];
}
