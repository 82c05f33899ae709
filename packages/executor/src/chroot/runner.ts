/**
 * A chroot runner: a node process of its own (runners.ts starts it with an IPC channel),
 * used for one run. It copies the run's root, starts the watchdog, chroots itself into
 * the private root (chroot(2) needs only CAP_SYS_CHROOT, which docker grants and its
 * seccomp profile allows; a process has a filesystem context of its own, so no unshare),
 * resolves the user there, creates the working directory, drops to the command's
 * credentials (raw per-thread calls, as the sandbox worker does) and spawns the command
 * in a new session with posix_spawn. Then it streams the output, reports the exit (the
 * command left a zombie until tsbuild has killed what it left behind), closes the
 * watchdog's pipe and ends.
 *
 * It dies with tsbuild: PR_SET_PDEATHSIG (SIGKILL) until it drops its credentials
 * (which clears it), and when its IPC channel closes after that.
 *
 * The watchdog is the host's /bin/sh, started before the chroot with the read end of a
 * pipe only this process writes: it reads the command's pid, waits for EOF and kills the
 * command's process group. EOF comes when the run ends, or when the runner dies, even
 * with tsbuild by `kill -9`, so the command does not outlive tsbuild (a process that left
 * the process group can; see sweep.ts). Without /bin/sh on the host there is no watchdog.
 */
import { existsSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { ExecutorError } from '../errors.js';
import * as libc from '../libc.js';
import { enterWorkdir, environment, readRootFile } from '../sandbox/command-env.js';
import { dropPrivileges } from '../sandbox/credentials.js';
import { fdSealer } from '../sandbox/fds.js';
import { SetupError } from '../sandbox/setup-error.js';
import { CannotStart, startCommand } from '../sandbox/start-command.js';
import { streamOutput } from '../sandbox/output.js';
import { aboveStdio, spawnCommand, spawnWith, type Spawned } from '../sandbox/spawn.js';
import { processUser } from '../sandbox/user.js';
import { UserResolutionError } from '../user/index.js';
import type { ChrootPlan, FromChroot, ToChroot } from './protocol.js';
import { placeRootFiles } from './root-files.js';
import { materialise } from './snapshot.js';

const post = (m: FromChroot, then?: () => void) => process.send!(m, undefined, undefined, then);
const POLL_MS = [1, 1, 1, 2, 2, 5, 5, 10, 10, 20, 20, 50];
const WNOWAIT = 0x01000000;
const SIGKILL = 9;
const WATCH_SCRIPT = 'read pgid || exit 0; while read -r _; do :; done; kill -KILL -"$pgid" 2>/dev/null; exit 0';

interface Started extends Spawned {
  stdin?: number;
  stdout: number;
  stderr: number;
}

function startWatchdog(): { pidfd: number; control: number } | undefined {
  if (!existsSync('/bin/sh')) return undefined;
  const [r, w] = libc.pipe2().map(aboveStdio) as [number, number];
  try {
    const s = spawnWith('/bin/sh', ['tsbuild-chroot-watch', '-c', WATCH_SCRIPT], [], (fa) => {
      libc.spawnAddDup2(fa, r, 0);
      libc.spawnAddOpen(fa, 1, '/dev/null', libc.O.WRONLY);
      libc.spawnAddOpen(fa, 2, '/dev/null', libc.O.WRONLY);
    });
    return { pidfd: s.pidfd, control: w };
  } catch (err) {
    libc.close(w);
    throw err;
  } finally {
    libc.close(r);
  }
}

function start(plan: ChrootPlan, watch: { control: number } | undefined): Started {
  const proc = plan.process;
  if (proc.args.length === 0) throw new SetupError('no command to run');
  const sealer = fdSealer({ closeRangeCloexec: plan.closeRangeCloexec });
  try {
    libc.chroot(plan.root);
    libc.chdir('/');
  } catch (err) {
    sealer.close();
    throw new SetupError('chroot', err);
  }
  let user;
  try {
    user = processUser(proc.user, { passwd: readRootFile('/etc/passwd'), group: readRootFile('/etc/group') });
  } catch (err) {
    sealer.close();
    if (err instanceof UserResolutionError) throw new SetupError(err.message);
    throw err;
  }
  try {
    enterWorkdir(proc.cwd, user);
  } catch (err) {
    sealer.close();
    throw err;
  }
  const env = environment(proc.env, user.home);
  const started = startCommand(
    { stdin: plan.stdin === 'pipe', args: proc.args, env },
    () => {
      sealer.seal();
      try {
        dropPrivileges(user, { seccomp: false });
      } catch (err) {
        throw new SetupError('credentials', err);
      }
    },
    (found, argv, envp, stdio) => spawnCommand(found, argv, envp, stdio),
  );
  try {
    if (watch) writeSync(watch.control, `${started.pid}\n`);
  } catch (err) {
    for (const fd of [started.stdout, started.stderr, started.stdin]) if (fd !== undefined) libc.close(fd);
    throw err;
  }
  return started;
}

function run(plan: ChrootPlan): void {
  let watch: { pidfd: number; control: number } | undefined;
  let cmd: Started | undefined;
  const finish = (last?: FromChroot) => {
    if (watch) {
      libc.close(watch.control);
      libc.waitid(libc.P.PIDFD, watch.pidfd, 0);
    }
    if (cmd) libc.waitid(libc.P.PIDFD, cmd.pidfd, 0);
    if (last) post(last);
    // Sent in order: once `done` is written, so is everything before it.
    post({ type: 'done' }, () => process.exit(0));
  };
  try {
    // On the host's view, as tsbuild: the copy and the run's own files. A cancelled run's
    // runner is killed, so the copy needs no check of its own.
    const baseline = materialise(plan.lowerdirs, plan.root);
    const ignored = placeRootFiles(plan.root, plan.files, plan.mounts);
    post({ type: 'prepared', baseline: [...baseline], ignored: { paths: [...ignored.paths], created: [...ignored.created] } });
    watch = startWatchdog();
    cmd = start(plan, watch);
  } catch (err) {
    const e = err instanceof ExecutorError ? err : new SetupError('chroot setup', err);
    finish({ type: 'failed', code: e.code, message: e.message, exitCode: err instanceof CannotStart ? err.exitCode : 125 });
    return;
  }
  const c = cmd;
  post({ type: 'started', pid: c.pid });
  let open = 2;
  let exited = false;
  const ended = () => {
    if (exited && open === 0) finish();
  };
  let polls = 0;
  let timer: NodeJS.Timeout | undefined;
  const poll = () => {
    if (exited) return;
    clearTimeout(timer);
    const st = libc.waitid(libc.P.PIDFD, c.pidfd, libc.W.NOHANG | WNOWAIT);
    if (!st) {
      timer = setTimeout(poll, POLL_MS[Math.min(polls++, POLL_MS.length - 1)]);
      return;
    }
    exited = true;
    post(st.code === libc.CLD.EXITED ? { type: 'exited', code: st.status, signal: null } : { type: 'exited', code: null, signal: signalName(st.status) });
    ended();
  };
  streamOutput(c, (m) => post(m), () => {
    open--;
    poll();
    ended();
  });
  if (c.stdin !== undefined) {
    const stdin = new Socket({ fd: c.stdin, readable: false, writable: true });
    stdin.on('error', () => {});
    process.on('message', (m: ToChroot) => {
      if (m.type === 'stdin') stdin.write(m.data);
      else if (m.type === 'stdin-end') stdin.end();
    });
  }
  poll();
}

function signalName(n: number): string {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? `SIG${n}`;
}

// Killed when tsbuild (the parent, whose pid is the argument) dies; it may have died already.
// Dropping credentials clears that signal: from then on the channel's end says it.
libc.prctl(libc.PR.SET_PDEATHSIG, SIGKILL);
if (process.ppid !== Number(process.argv[2])) process.exit(0);
process.once('disconnect', () => process.exit(0));
process.once('message', (m: ToChroot) => {
  if (m.type === 'run') run(m.plan);
});
post({ type: 'ready', pid: process.pid });
