/**
 * Starting the command, the last step of both the sandbox and chroot isolation: pipes for
 * its stdio, then what must come just before it (sealing tsbuild's fds, dropping to the
 * command's credentials), then the executable found on the command's PATH and spawned.
 * The parent's ends of the pipes come back; on any failure every fd made here is closed.
 */
import * as libc from '../libc.js';
import { SetupError } from './setup-error.js';
import { aboveStdio, findExecutable, type Spawned } from './spawn.js';

/** The command could not be executed: 126 or 127, not a setup failure. */
export class CannotStart extends SetupError {
  constructor(readonly exitCode: number, message: string) {
    super(message);
  }
}

/** A started command and the parent's ends of its pipes. */
export interface Command extends Spawned {
  stdin?: number;
  stdout: number;
  stderr: number;
}

export interface CommandStdio {
  stdin: number | undefined;
  stdout: number;
  stderr: number;
}

export function startCommand(
  cmd: { stdin: boolean; args: readonly string[]; env: Record<string, string> },
  before: () => void,
  spawn: (found: string, argv: readonly string[], envp: string[], stdio: CommandStdio) => Spawned,
): Command {
  const [outRead, outWrite] = libc.pipe2().map(aboveStdio) as [number, number];
  const [errRead, errWrite] = libc.pipe2().map(aboveStdio) as [number, number];
  const [inRead, inWrite] = cmd.stdin ? (libc.pipe2().map(aboveStdio) as [number, number]) : [undefined, undefined];
  try {
    before();
    const found = findExecutable(cmd.args[0]!, cmd.env.PATH);
    if (typeof found !== 'string') {
      throw new CannotStart(found.denied ? 126 : 127, `exec: ${JSON.stringify(cmd.args[0])}: ${found.denied ? 'permission denied' : 'executable file not found in $PATH'}`);
    }
    const envp = Object.entries(cmd.env).map(([k, v]) => `${k}=${v}`);
    let spawned: Spawned;
    try {
      spawned = spawn(found, cmd.args, envp, { stdin: inRead, stdout: outWrite, stderr: errWrite });
    } catch (err) {
      if (err instanceof SetupError) throw err;
      const errno = (err as { errno?: string }).errno;
      throw new CannotStart(errno === 'ENOENT' ? 127 : 126, `exec ${JSON.stringify(found)}: ${errno ?? (err as Error).message}`);
    }
    return { ...spawned, ...(inWrite !== undefined ? { stdin: inWrite } : {}), stdout: outRead, stderr: errRead };
  } catch (err) {
    for (const fd of [outRead, errRead, inWrite]) if (fd !== undefined) libc.close(fd);
    throw err;
  } finally {
    for (const fd of [outWrite, errWrite, inRead]) if (fd !== undefined) libc.close(fd);
  }
}
