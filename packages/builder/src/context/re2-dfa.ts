/**
 * Runs an NFA (re2-nfa.ts) the way RE2 does: every thread at once, never backtracking,
 * with the sets of NFA states met turned into DFA states lazily and cached. A step on an
 * uncached transition costs O(program size), a cached one O(1), so a search costs
 * O(program size x input length) at worst and usually O(input length), whatever the
 * pattern: `*a*a*a*a*a*a*a*b` cannot take exponential time as in a backtracking engine.
 *
 * A DFA state is a set of NFA instructions at one position: the ones that consume a
 * character, and the assertions that need the next character to be decided (`$`, `\b`,
 * `\B`), kept pending until it is read. The state also records whether the previous
 * character was a word character (for `\b`) and whether it is the start of the input.
 */
import { Assertion, Op, type Code } from './re2-nfa.js';

interface State {
  /** Consuming instructions and pending assertions (sorted in a cached state). */
  members: number[];
  atStart: boolean;
  prevWord: boolean;
  /** Transitions on ASCII characters, then on the others. */
  ascii: (State | typeof MATCH | undefined)[];
  other: Map<number, State | typeof MATCH> | undefined;
  /** Does the input match when it ends in this state? Computed once. */
  atEnd: boolean | undefined;
}

const MATCH = Symbol('match');

/**
 * How many DFA states (and NFA instructions in them) programs may keep cached, shared by
 * the programs of one `.dockerignore` so that many patterns cannot add up. A program that
 * would go past it drops its own cache and rebuilds states as needed.
 */
export class CacheBudget {
  states = 0;
  members = 0;
  constructor(
    readonly maxStates = 4096,
    readonly maxMembers = 1 << 21,
  ) {}
}

const isWord = (cp: number): boolean =>
  (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || cp === 0x5f || (cp >= 0x61 && cp <= 0x7a);

/** The position an assertion is decided at. `next` is -1 at the end of the input. */
interface Context {
  atStart: boolean;
  prevWord: boolean;
  next: number;
}

export class Program {
  readonly #code: Code;
  readonly #anchored: boolean;
  readonly #stamps: Uint32Array;
  readonly #stack: Int32Array;
  #stamp = 0;
  #states = new Map<string, State>();
  #members = 0;
  readonly #budget: CacheBudget;
  #initial: State | typeof MATCH | undefined;
  /** Size of the states the current search added to the cache. */
  #built = 0;

  constructor(code: Code, opts: { budget?: CacheBudget } = {}) {
    this.#code = code;
    this.#budget = opts.budget ?? new CacheBudget();
    this.#anchored = code.op[code.start] === Op.Assert && code.arg[code.start] === Assertion.BeginText;
    this.#stamps = new Uint32Array(code.op.length);
    this.#stack = new Int32Array(2 * code.op.length + 1);
  }

  /** Does the expression match anywhere in `input` (Go's MatchString, code point by code point)? */
  search(input: string): boolean {
    this.#initial ??= this.#intern([this.#code.start], { atStart: true, prevWord: false, cache: true });
    // Like RE2, give up caching for the rest of a search whose states keep being new:
    // the step is then the plain simulation, without the cost of keeping the state.
    this.#built = 0;
    const budget = 8 * this.#code.op.length + 1024;
    let state = this.#initial;
    for (let i = 0; i < input.length; ) {
      if (state === MATCH) return true;
      if (state.members.length === 0 && this.#anchored) return false;
      let cp = input.charCodeAt(i++);
      if (cp >= 0xd800 && cp < 0xdc00 && i < input.length) {
        const low = input.charCodeAt(i);
        if (low >= 0xdc00 && low < 0xe000) {
          cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          i++;
        }
      }
      const known = cp < 128 ? state.ascii[cp] : state.other?.get(cp);
      state = known ?? this.#step(state, cp, this.#built <= budget);
    }
    if (state === MATCH) return true;
    state.atEnd ??= this.#decide(state, -1, []);
    return state.atEnd;
  }

  /** The state after reading `cp` in `from`; with `cache`, kept as a transition of `from`. */
  #step(from: State, cp: number, cache: boolean): State | typeof MATCH {
    const consuming: number[] = [];
    if (this.#decide(from, cp, consuming)) return this.#remember(from, cp, MATCH, cache);
    const targets: number[] = [];
    for (const pc of consuming) if (this.#accepts(pc, cp)) targets.push(this.#code.out[pc]!);
    if (!this.#anchored) targets.push(this.#code.start);
    return this.#remember(from, cp, this.#intern(targets, { atStart: false, prevWord: isWord(cp), cache }), cache);
  }

  #remember(from: State, cp: number, next: State | typeof MATCH, cache: boolean): State | typeof MATCH {
    // (After a cache reset `from` is no longer cached: the entry is dropped with it.)
    if (!cache) return next;
    if (cp < 128) from.ascii[cp] = next;
    else (from.other ??= new Map()).set(cp, next);
    return next;
  }

  #accepts(pc: number, cp: number): boolean {
    const { op, arg, classes } = this.#code;
    switch (op[pc]) {
      case Op.Char:
        return arg[pc] === cp;
      case Op.Class:
        return classes[arg[pc]!]!.has(cp);
      default:
        return cp !== 0x0a; // AnyNotNewline
    }
  }

  /**
   * Decides the pending assertions of `state` now that the next character is known (or
   * that there is none), appending the consuming instructions reached to `consuming`.
   * True when Match is reached.
   */
  #decide(state: State, next: number, consuming: number[]): boolean {
    return this.#closure(state.members, { atStart: state.atStart, prevWord: state.prevWord, next }, consuming);
  }

  /** The DFA state of the instructions reachable from `pcs` at a new position, or MATCH. */
  #intern(pcs: number[], opts: { atStart: boolean; prevWord: boolean; cache: boolean }): State | typeof MATCH {
    const { atStart, prevWord, cache } = opts;
    const members: number[] = [];
    // Only at the start can `^` be decided before the next character is known.
    if (this.#closure(pcs, atStart ? { atStart, prevWord, next: -2 } : undefined, members)) return MATCH;
    const state: State = { members, atStart, prevWord, ascii: [], other: undefined, atEnd: undefined };
    if (!cache) return state;
    members.sort((a, b) => a - b);
    const key = `${atStart ? 's' : ''}${prevWord ? 'w' : ''}:${members.join(',')}`;
    const known = this.#states.get(key);
    if (known) return known;
    const budget = this.#budget;
    if (budget.states >= budget.maxStates || budget.members + members.length > budget.maxMembers) this.#reset();
    this.#states.set(key, state);
    this.#members += members.length;
    budget.states++;
    budget.members += members.length;
    this.#built += members.length + 1;
    return state;
  }

  #reset(): void {
    for (const s of this.#states.values()) {
      s.ascii = [];
      s.other = undefined;
    }
    this.#budget.states -= this.#states.size;
    this.#budget.members -= this.#members;
    this.#states = new Map();
    this.#members = 0;
    this.#initial = undefined;
  }

  /**
   * Follows empty transitions from `pcs`, collecting into `out` the consuming
   * instructions reached. With a context (`next` known, or -2 at the start where only
   * `^` can be decided), assertions are decided; without one, `^` fails and the others
   * are collected as pending. True when Match is reached.
   */
  #closure(pcs: number[], ctx: Context | undefined, out: number[]): boolean {
    const { op, arg, out: next, out1 } = this.#code;
    const stack = this.#stack;
    const stamp = this.#nextStamp();
    for (const start of pcs) {
      let sp = 0;
      stack[sp++] = start;
      while (sp > 0) {
        const pc = stack[--sp]!;
        if (this.#stamps[pc] === stamp) continue;
        this.#stamps[pc] = stamp;
        switch (op[pc]) {
          case Op.Match:
            return true;
          case Op.Split:
            stack[sp++] = out1[pc]!;
            stack[sp++] = next[pc]!;
            break;
          case Op.Nop:
            stack[sp++] = next[pc]!;
            break;
          case Op.Assert: {
            const kind = arg[pc] as Assertion;
            if (kind === Assertion.BeginText) {
              if (ctx?.atStart) stack[sp++] = next[pc]!;
            } else if (ctx === undefined || ctx.next === -2) {
              out.push(pc); // decided once the next character is known
            } else if (holds(kind, ctx)) {
              stack[sp++] = next[pc]!;
            }
            break;
          }
          default:
            out.push(pc);
        }
      }
    }
    return false;
  }

  #nextStamp(): number {
    if (this.#stamp === 0xffffffff) {
      this.#stamps.fill(0);
      this.#stamp = 0;
    }
    return ++this.#stamp;
  }
}

function holds(kind: Assertion, ctx: Context): boolean {
  if (kind === Assertion.EndText) return ctx.next === -1;
  const after = ctx.next >= 0 && isWord(ctx.next);
  return (ctx.prevWord !== after) === (kind === Assertion.WordBoundary);
}
