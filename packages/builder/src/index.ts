/** @tsbuild/builder: Dockerfile text (dockerfile/) -> plan (plan/) -> solve (solve/, one step per instruction family in steps/) -> image -> export (export/); the tsbuild CLI (cli.ts, a module per command in cli/commands/). */
export * from './errors.js';
export { build, type BuildOptions, type BuildResult, type BuildEvent, type EventSink, type StepInfo } from './solve/index.js';
export { parse, parseTrigger, type Dockerfile, type Instruction } from './dockerfile/instructions/index.js';
export { parseDockerfile, type RawInstruction, type ParsedDockerfile } from './dockerfile/parse.js';
export { planBuild, type BuildPlan, type Stage } from './plan/stages.js';
export { ShellLex, ExpansionError, envFromList } from './dockerfile/shell-lex.js';
export { parseDockerignore, IgnoreMatcher, loadDockerignore } from './context/dockerignore.js';
export { parseOutput, type OutputSpec } from './export/outputs.js';
export { exportImage, sinkFor } from './export/sinks.js';
export { createRenderer, type ProgressMode, type Renderer } from './progress/index.js';
export { VERSION, SYNTAX_LEVEL } from './version.js';
