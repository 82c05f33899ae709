/** Raw instructions -> the typed union (second parse step). */
import { BuildError } from '../../errors.js';
import { parseDockerfile, type ParsedDockerfile, type RawInstruction } from '../parse.js';
import { parseCmd, parseHealthcheck, parseRun, parseShell } from './command.js';
import { parseExpose, parseFrom, parseMaintainer, parseOnbuild, parseStopSignal, parseUser, parseVolume, parseWorkdir } from './config.js';
import { parseCopy } from './copy.js';
import { parseArg, parseEnv, parseLabel } from './kv.js';
import type { Instruction } from './types.js';

export * from './types.js';

export function toInstruction(raw: RawInstruction, escape: string): Instruction {
  switch (raw.keyword) {
    case 'FROM':
      return parseFrom(raw);
    case 'ARG':
      return parseArg(raw, escape);
    case 'ENV':
      return parseEnv(raw, escape);
    case 'LABEL':
      return parseLabel(raw, escape);
    case 'RUN':
      return parseRun(raw);
    case 'CMD':
    case 'ENTRYPOINT':
      return parseCmd(raw);
    case 'SHELL':
      return parseShell(raw);
    case 'HEALTHCHECK':
      return parseHealthcheck(raw);
    case 'WORKDIR':
      return parseWorkdir(raw);
    case 'USER':
      return parseUser(raw);
    case 'EXPOSE':
      return parseExpose(raw);
    case 'VOLUME':
      return parseVolume(raw);
    case 'STOPSIGNAL':
      return parseStopSignal(raw);
    case 'MAINTAINER':
      return parseMaintainer(raw);
    case 'ONBUILD':
      return parseOnbuild(raw, escape);
    case 'COPY':
    case 'ADD':
      return parseCopy(raw);
    default:
      throw new BuildError('TSBUILD_UNKNOWN_INSTRUCTION', `unknown instruction: ${raw.keyword}`, { location: raw.location });
  }
}

export interface Dockerfile {
  parsed: ParsedDockerfile;
  instructions: Instruction[];
}

/** Parse Dockerfile text into typed instructions (both steps). */
export function parse(text: string, file = 'Dockerfile'): Dockerfile {
  const parsed = parseDockerfile(text, file);
  return { parsed, instructions: parsed.instructions.map((r) => toInstruction(r, parsed.escape)) };
}

/** Parse one ONBUILD trigger (as stored in an image config) into an instruction. */
export function parseTrigger(trigger: string, location: { file: string; startLine: number; endLine: number }): Instruction {
  const parsed = parseDockerfile(trigger, location.file);
  const raw = parsed.instructions[0]!;
  return toInstruction({ ...raw, location }, parsed.escape);
}
