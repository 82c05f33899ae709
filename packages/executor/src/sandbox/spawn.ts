/**
 * Starting the sandbox's processes with posix_spawn(3) through koffi rather than
 * `child_process.spawn`: Node forks, which copies the page tables of all of tsbuild
 * (11-17 ms with a 200 MB heap, measured), while glibc's posix_spawn uses
 * CLONE_VM|CLONE_VFORK (0.2-0.4 ms) and, like fork, gives the child the calling thread's
 * namespaces, root, cwd and credentials. The child runs only glibc's C code before exec.
 */
import { accessSync, constants as fsc, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { Via } from '../cgroup/enter.js';
import * as libc from '../libc.js';

export interface Spawned {
  pid: number;
  pidfd: number;
}

/** Move an fd above 0-2 so the child's dup2 onto 0-2 cannot clobber it. */
export function aboveStdio(fd: number): number {
  if (fd > 2) return fd;
  const moved = libc.fcntl(fd, libc.F.DUPFD_CLOEXEC, 3);
  libc.close(fd);
  return moved;
}

export function spawnWith(path: string, argv: readonly string[], envp: readonly string[], setActions: (fa: Buffer) => void): Spawned {
  const fa = libc.spawnFileActions();
  const attr = libc.spawnAttr();
  try {
    setActions(fa);
    // A new session (no controlling terminal, no job-control signals from tsbuild's
    // terminal), no blocked signals, every signal at its default (Node ignores SIGPIPE).
    libc.spawnAttrSetflags(attr, libc.POSIX_SPAWN.SETSID | libc.POSIX_SPAWN.SETSIGMASK | libc.POSIX_SPAWN.SETSIGDEF);
    libc.spawnAttrSetsigmask(attr, false);
    libc.spawnAttrSetsigdefault(attr, true);
    const pid = libc.posixSpawn(path, argv, envp, fa, attr);
    return { pid, pidfd: libc.pidfdOpen(pid) };
  } finally {
    libc.spawnFileActionsDestroy(fa);
    libc.spawnAttrDestroy(attr);
  }
}

/**
 * The init (init.ts), with the read end of its control pipe as stdin. It inherits the
 * thread's cwd, which must be the new root's mount point, so that after pivot_root its
 * cwd is the sandbox's / and not a directory of the host. With `procTo`, the write end
 * of a pipe, it opens a proc filesystem context for its PID namespace and writes the fd
 * number there (see init-code.ts).
 */
export function spawnInit(initFd: number, control: number, opts: { procTo?: number } = {}): Spawned {
  const argv = opts.procTo === undefined ? ['tsbuild-init'] : ['tsbuild-init', 'proc'];
  return spawnWith(`/proc/self/fd/${initFd}`, argv, [], (fa) => {
    libc.spawnAddDup2(fa, control, 0);
    if (opts.procTo === undefined) libc.spawnAddOpen(fa, 1, '/dev/null', libc.O.WRONLY);
    else libc.spawnAddDup2(fa, opts.procTo, 1);
    libc.spawnAddOpen(fa, 2, '/dev/null', libc.O.WRONLY);
  });
}

/**
 * The command: stdin from a pipe or /dev/null (the sandbox's), stdout and stderr to pipes.
 * `via`: started through another program (tsbuild-enter, which joins a cgroup first).
 */
export function spawnCommand(path: string, argv: readonly string[], envp: readonly string[], stdio: { stdin?: number; stdout: number; stderr: number }, via?: Via): Spawned {
  return spawnWith(via ? via.path : path, via ? [...via.argv, path, ...argv] : argv, envp, (fa) => {
    if (stdio.stdin === undefined) libc.spawnAddOpen(fa, 0, '/dev/null', libc.O.RDONLY);
    else libc.spawnAddDup2(fa, stdio.stdin, 0);
    libc.spawnAddDup2(fa, stdio.stdout, 1);
    libc.spawnAddDup2(fa, stdio.stderr, 2);
    for (const [from, to] of via?.dup2 ?? []) libc.spawnAddDup2(fa, from, to);
  });
}

/** Docker's PATH when the environment has none (moby `defaultUnixPathEnv`). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * execvp's search, done in the sandbox (the thread is pivoted and runs with the
 * command's credentials): the first regular executable file on PATH. `denied` when only
 * non-executable candidates were found (exit 126 rather than 127).
 */
export function findExecutable(file: string, path: string | undefined): string | { denied: boolean } {
  if (file.includes('/')) return file;
  let denied = false;
  for (const dir of (path ?? DEFAULT_PATH).split(':')) {
    const candidate = posix.join(dir || '.', file);
    try {
      if (!statSync(candidate).isFile()) continue;
    } catch {
      continue;
    }
    try {
      accessSync(candidate, fsc.X_OK);
      return candidate;
    } catch {
      denied = true;
    }
  }
  return { denied };
}
