/** The typed instruction union: what each Dockerfile instruction means, before variable expansion. */
import type { SourceLocation } from '../../errors.js';
import type { Heredoc, RawInstruction } from '../parse.js';

export type Command = { form: 'shell'; text: string } | { form: 'exec'; args: string[] };

interface Base {
  location: SourceLocation;
  raw: RawInstruction;
}

export interface FromInstruction extends Base {
  kind: 'FROM';
  image: string;
  alias?: string;
  platform?: string;
}

export interface KeyValue {
  /** Raw words; expansion and quote removal happen at dispatch. */
  key: string;
  value: string;
}

export interface ArgDecl {
  name: string;
  /** Raw default (unexpanded), if any. */
  value?: string;
}

export interface ArgInstruction extends Base {
  kind: 'ARG';
  args: ArgDecl[];
}

export interface EnvInstruction extends Base {
  kind: 'ENV';
  pairs: KeyValue[];
}

export interface LabelInstruction extends Base {
  kind: 'LABEL';
  pairs: KeyValue[];
}

export interface RunMount {
  /** The mount spec as written (`type=cache,target=/root/.cache`). */
  spec: string;
}

export interface RunInstruction extends Base {
  kind: 'RUN';
  command: Command;
  mounts: RunMount[];
  network?: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
  heredocs: Heredoc[];
}

export interface CmdInstruction extends Base {
  kind: 'CMD' | 'ENTRYPOINT';
  command: Command;
}

export interface ShellInstruction extends Base {
  kind: 'SHELL';
  shell: string[];
}

export interface WorkdirInstruction extends Base {
  kind: 'WORKDIR';
  path: string;
}

export interface UserInstruction extends Base {
  kind: 'USER';
  user: string;
}

export interface ExposeInstruction extends Base {
  kind: 'EXPOSE';
  ports: string[];
}

export interface VolumeInstruction extends Base {
  kind: 'VOLUME';
  paths: string[];
}

export interface StopSignalInstruction extends Base {
  kind: 'STOPSIGNAL';
  signal: string;
}

export interface MaintainerInstruction extends Base {
  kind: 'MAINTAINER';
  name: string;
}

export interface HealthcheckInstruction extends Base {
  kind: 'HEALTHCHECK';
  /** `["NONE"]`, `["CMD", ...args]` or `["CMD-SHELL", text]`. */
  test: string[];
  /** Nanoseconds; absent when not given. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export interface OnbuildInstruction extends Base {
  kind: 'ONBUILD';
  /** The trigger as written, e.g. `RUN echo hi`. */
  trigger: string;
}

export interface CopyInstruction extends Base {
  kind: 'COPY' | 'ADD';
  /** Raw (unexpanded) source words. */
  sources: string[];
  dest: string;
  /** Sources given as heredocs (`COPY <<EOF /dest`), by name. */
  heredocs: Heredoc[];
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
  checksum?: string;
  keepGitDir?: boolean;
}

export type Instruction =
  | FromInstruction
  | ArgInstruction
  | EnvInstruction
  | LabelInstruction
  | RunInstruction
  | CmdInstruction
  | ShellInstruction
  | WorkdirInstruction
  | UserInstruction
  | ExposeInstruction
  | VolumeInstruction
  | StopSignalInstruction
  | MaintainerInstruction
  | HealthcheckInstruction
  | OnbuildInstruction
  | CopyInstruction;

export type InstructionKind = Instruction['kind'];
