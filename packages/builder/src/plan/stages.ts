/**
 * Stages and the build graph: which stage each FROM and COPY --from refers to, which
 * stages the target needs (the rest are skipped), and the global ARGs that FROM lines
 * may use.
 */
import { BuildError, UsageError } from '../errors.js';
import type { ArgInstruction, CopyInstruction, FromInstruction, Instruction, RunInstruction } from '../dockerfile/instructions/index.js';
import type { Dockerfile } from '../dockerfile/instructions/index.js';
import { ShellLex } from '../dockerfile/shell-lex.js';

export interface Stage {
  index: number;
  /** Lower-case alias from `FROM ... AS name`. */
  name?: string;
  from: FromInstruction;
  /** FROM's image after expanding global ARGs. */
  image: string;
  /** The stage FROM refers to, when it names an earlier stage. */
  baseStage?: number;
  instructions: Instruction[];
  /** Stages this one needs (base stage and COPY --from / RUN --mount from= stages it can resolve statically). */
  deps: Set<number>;
}

export interface GlobalArg {
  name: string;
  value: string | undefined;
}

export interface BuildPlan {
  stages: Stage[];
  target: Stage;
  /** Stages to build, dependencies first. */
  needed: Stage[];
  globalArgs: Map<string, GlobalArg>;
  /** Build args given on the command line that no ARG declared (for the "not consumed" warning). */
  buildArgNames: Set<string>;
}

export interface PlanOptions {
  buildArgs: ReadonlyMap<string, string>;
  target?: string;
  /** Automatic platform ARGs (TARGETPLATFORM, BUILDARCH, ...). */
  platformArgs: ReadonlyMap<string, string>;
  escape?: '\\' | '`';
}

export function planBuild(df: Dockerfile, opts: PlanOptions): BuildPlan {
  const lex = new ShellLex(df.parsed.escape);
  const globalArgs = new Map<string, GlobalArg>();
  for (const [k, v] of opts.platformArgs) globalArgs.set(k, { name: k, value: v });
  const stages: Stage[] = [];
  let current: Stage | undefined;
  const lookupGlobal = (name: string) => globalArgs.get(name)?.value;

  for (const ins of df.instructions) {
    if (ins.kind === 'FROM') {
      const image = expandFrom(lex, ins, lookupGlobal);
      current = { index: stages.length, from: ins, image, instructions: [], deps: new Set() };
      if (ins.alias !== undefined) {
        if (stages.some((s) => s.name === ins.alias)) {
          throw new BuildError('TSBUILD_INVALID_ARGUMENT', `duplicate stage name ${JSON.stringify(ins.alias)}`, { location: ins.location });
        }
        current.name = ins.alias;
      }
      const base = stages.find((s) => s.name !== undefined && s.name === image.toLowerCase());
      if (base) {
        current.baseStage = base.index;
        current.deps.add(base.index);
      }
      stages.push(current);
      continue;
    }
    if (!current) {
      if (ins.kind !== 'ARG') {
        throw new BuildError('TSBUILD_NO_FROM', `no build stage in current context: ${ins.kind} before the first FROM (only ARG may come before it)`, { location: ins.location });
      }
      declareGlobal(lex, ins, globalArgs, opts.buildArgs);
      continue;
    }
    current.instructions.push(ins);
  }
  if (stages.length === 0) {
    const last = df.instructions[df.instructions.length - 1]!;
    throw new BuildError('TSBUILD_NO_FROM', 'no build stage in current context: the Dockerfile has no FROM instruction', { location: last.location });
  }

  for (const stage of stages) {
    for (const ins of stage.instructions) {
      const ref = fromRef(ins);
      if (ref === undefined) continue;
      const dep = stageByRef(stages, ref, stage.index);
      if (dep !== undefined) stage.deps.add(dep.index);
    }
  }

  let target = stages[stages.length - 1]!;
  if (opts.target !== undefined) {
    const t = stages.find((s) => s.name === opts.target!.toLowerCase());
    if (!t) throw new UsageError(`--target: target stage ${JSON.stringify(opts.target)} could not be found (stages: ${stages.map((s) => s.name ?? String(s.index)).join(', ')})`);
    target = t;
  }
  const needed: Stage[] = [];
  const seen = new Set<number>();
  const visit = (s: Stage) => {
    if (seen.has(s.index)) return;
    seen.add(s.index);
    for (const d of s.deps) visit(stages[d]!);
    needed.push(s);
  };
  visit(target);
  return { stages, target, needed, globalArgs, buildArgNames: new Set(opts.buildArgs.keys()) };
}

function expandFrom(lex: ShellLex, ins: FromInstruction, lookup: (n: string) => string | undefined): string {
  try {
    const image = lex.processWord(ins.image, lookup);
    if (image === '') throw new BuildError('TSBUILD_INVALID_ARGUMENT', `FROM: base name (${ins.image}) should not be blank`, { location: ins.location });
    return image;
  } catch (err) {
    throw err instanceof BuildError ? err.at(ins.location) : err;
  }
}

function declareGlobal(lex: ShellLex, ins: ArgInstruction, globals: Map<string, GlobalArg>, buildArgs: ReadonlyMap<string, string>): void {
  for (const decl of ins.args) {
    let value: string | undefined;
    if (buildArgs.has(decl.name)) value = buildArgs.get(decl.name);
    else if (decl.value !== undefined) {
      try {
        value = lex.processWord(decl.value, (n) => globals.get(n)?.value);
      } catch (err) {
        throw err instanceof BuildError ? err.at(ins.location) : err;
      }
    } else value = globals.get(decl.name)?.value;
    globals.set(decl.name, { name: decl.name, value });
  }
}

/** The --from / from= reference an instruction makes, if written literally (no variables). */
function fromRef(ins: Instruction): string | undefined {
  if (ins.kind === 'COPY' && (ins as CopyInstruction).from !== undefined) return (ins as CopyInstruction).from;
  if (ins.kind === 'RUN') {
    for (const m of (ins as RunInstruction).mounts) {
      const f = /(?:^|,)from=([^,]+)/.exec(m.spec);
      if (f) return f[1];
    }
  }
  return undefined;
}

/** A stage named or numbered `ref` that comes before stage `before`. */
export function stageByRef(stages: readonly Stage[], ref: string, before: number): Stage | undefined {
  if (/^\d+$/.test(ref)) {
    const i = Number(ref);
    return i < before ? stages[i] : undefined;
  }
  const s = stages.find((x) => x.name === ref.toLowerCase());
  return s && s.index < before ? s : undefined;
}
