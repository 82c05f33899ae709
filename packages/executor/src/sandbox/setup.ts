/**
 * Building a sandbox, on the worker thread that will start the command.
 *
 * Namespaces, root, cwd, credentials and capabilities are per-thread in the kernel, and
 * posix_spawn clones from the calling thread, so everything here changes only this
 * thread and what it spawns. Everything is synchronous on purpose: libuv's thread pool
 * (async fs) runs in tsbuild's own namespaces and root, never in the sandbox's.
 *
 * Order (runc's, adapted): unshare -> make / rprivate -> overlay rootfs -> detached
 * mounts opened on the host side (files tmpfs, bind sources, sysfs) -> init (PID 1) ->
 * /proc for its namespace -> pivot_root, detach the old root -> the files tmpfs staged
 * at /dev -> /proc, /sys and /etc files (binds from it) -> /dev -> caller mounts, all
 * resolved inside the root -> hostname, loopback -> user -> workdir (chdir + getcwd
 * check) -> [private network: wait until its helper is ready] -> close-on-exec,
 * seccomp, capabilities, credentials -> spawn. A private network's namespace is handed to
 * the main thread right after the unshare (sandbox/network.ts), so its helper starts
 * while the rest is set up.
 *
 * Where the kernel lacks a feature newer than Linux 5.10 the plan says so
 * (features.ts) and the step takes its fallback: rootfs.ts, proc.ts, remount.ts, fds.ts.
 */
import * as libc from '../libc.js';
import type { SandboxPlan } from '../protocol.js';
import { EnterError, joinCgroup, spawnInCgroup } from '../cgroup/enter.js';
import { dropPrivileges } from './credentials.js';
import { awaitNetwork, handOffNetwork, loopbackUp, networkUnshareFlag, type NetworkHandoff, type Prewarmed } from './network.js';
import { procFromInit, procWithPidns } from './proc.js';
import { remountTree } from './remount.js';
import { closeRoot, enterRoot, openRoot, step, targetMaker, type OpenRoot } from './root.js';
import { SetupError, UnsupportedError } from './setup-error.js';
import { aboveStdio, spawnCommand, spawnInit } from './spawn.js';
import { startCommand, type Command } from './start-command.js';
import type { TargetMaker } from './targets.js';
import { checkCredentials } from './rootless.js';
import { processUser, type ResolvedUser } from './user.js';
import { UserResolutionError } from '../user/index.js';
import { enterWorkdir, environment, readRootFile } from './command-env.js';

const A = libc.MOUNT_ATTR;

/**
 * Retry a read-only remount that fails with EBUSY: the fd table is shared with all of
 * tsbuild, so a posix_spawn on another thread can hold a copy of a file we just wrote
 * and closed (a stub, the workdir) until its exec, a fraction of a millisecond.
 */
function whileBusy(fn: () => void): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; ; i++) {
    try {
      return fn();
    } catch (err) {
      if ((err as { errno?: string }).errno !== 'EBUSY' || i >= 200) throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

export interface Sandbox {
  /** The init and the write end of its control pipe: closing it ends the sandbox. */
  init?: { pidfd: number; control: number };
  targets?: TargetMaker;
  /** `private` network: the read end the worker waits on until the helper is ready. */
  netWait?: number;
  /** A network namespace the idle worker made (sandbox/network.ts). */
  prewarmed?: Prewarmed;
}

/**
 * Build the sandbox on the calling thread and start the command in it. `sb` is filled in
 * as things come to exist, so a failure half-way can still be cleaned up.
 */
export function setupSandbox(plan: SandboxPlan, sb: Sandbox, onInit: (pid: number, pidfd: number) => void, onNetwork: (h: NetworkHandoff) => void = () => {}): Command {
  const open: OpenRoot = { prepared: [] };
  try {
    return build(plan, sb, onInit, onNetwork, open);
  } catch (err) {
    closeRoot(open);
    throw err;
  }
}

function build(plan: SandboxPlan, sb: Sandbox, onInit: (pid: number, pidfd: number) => void, onNetwork: (h: NetworkHandoff) => void, open: OpenRoot): Command {
  const { process: proc, kernel } = plan;
  if (proc.args.length === 0) throw new SetupError('no command to run');
  const flags = libc.CLONE.NEWNS | libc.CLONE.NEWUTS | libc.CLONE.NEWIPC | libc.CLONE.NEWPID | step('network', () => networkUnshareFlag(plan, sb));
  step('unshare', () => libc.unshare(flags));
  step('network', () => handOffNetwork(plan, sb, onNetwork));
  libc.umask(0o022);
  step('mount propagation', () => libc.mount(null, '/', null, libc.MS.REC | libc.MS.PRIVATE));
  openRoot(plan, open);

  step('chdir', () => libc.chdir(plan.mountpoint));
  const [controlRead, controlWrite] = libc.pipe2().map(aboveStdio) as [number, number];
  const procPipe = kernel.procPidns ? undefined : (libc.pipe2().map(aboveStdio) as [number, number]);
  let initPid = 0;
  try {
    const init = spawnInit(plan.initFd, controlRead, { procTo: procPipe?.[1] });
    sb.init = { pidfd: init.pidfd, control: controlWrite };
    initPid = init.pid;
    onInit(init.pid, init.pidfd);
  } catch (err) {
    libc.close(controlWrite);
    if (procPipe) libc.close(procPipe[0]);
    throw new UnsupportedError('cannot start the sandbox init (is executing a memfd forbidden here?)', err);
  } finally {
    libc.close(controlRead);
    if (procPipe) libc.close(procPipe[1]);
  }
  // cgroup v2: the init joins the run's cgroup before anything else of the sandbox exists.
  if (plan.cgroup) step("joining the run's cgroup", () => joinCgroup(plan.cgroup!.procsFd, initPid));
  try {
    open.procFd = procPipe ? step('/proc', () => rootlessProc(plan, () => procFromInit(sb.init!.pidfd, procPipe[0]))) : procWithPidns();
  } finally {
    if (procPipe) libc.close(procPipe[0]);
  }
  enterRoot(open, (sb.targets = targetMaker(open)));
  step('hostname', () => libc.sethostname(proc.hostname));
  if (plan.network !== 'host') step('loopback', () => loopbackUp());

  let user: ResolvedUser;
  try {
    user = processUser(proc.user, { passwd: readRootFile('/etc/passwd'), group: readRootFile('/etc/group') });
  } catch (err) {
    if (err instanceof UserResolutionError) throw new SetupError(err.message);
    throw err;
  }
  if (plan.userns) checkCredentials(plan.userns, user);
  enterWorkdir(proc.cwd, user);
  const env = environment(proc.env, user.home);
  if (plan.rootfs.readonly) {
    step('read-only rootfs', () => whileBusy(() => (kernel.mountSetattr ? libc.mountSetattr(libc.AT.FDCWD, '/', 0, { set: A.RDONLY }) : remountTree('/', { set: A.RDONLY }))));
  }
  if (sb.netWait !== undefined) {
    const wait = sb.netWait;
    sb.netWait = undefined;
    awaitNetwork(wait, plan.netHelper ?? 'the network helper');
  }
  return startCommand(
    { stdin: plan.stdin === 'pipe', args: proc.args, env },
    () => {
      step('close-on-exec', () => open.fds!.seal());
      step('credentials', () => dropPrivileges(user, plan.userns ? { userns: plan.userns } : {}));
    },
    (found, argv, envp, stdio) => {
      const cgroup = plan.cgroup;
      try {
        return cgroup ? spawnInCgroup(cgroup, (via) => spawnCommand(found, argv, envp, stdio, via)) : spawnCommand(found, argv, envp, stdio);
      } catch (err) {
        if (err instanceof EnterError && err.step === 'join') throw new SetupError(err.message);
        throw err;
      }
    },
  );
}

/**
 * The kernel lets a user namespace mount proc only where the host's /proc is fully
 * visible (nothing mounted over any of it, as in a container with masked /proc paths):
 * say so when rootless gets EPERM.
 */
function rootlessProc(plan: SandboxPlan, fn: () => number): number {
  try {
    return fn();
  } catch (err) {
    const errno = (err as { errno?: string; cause?: { errno?: string } }).errno ?? (err as { cause?: { errno?: string } }).cause?.errno;
    if (!plan.userns || errno !== 'EPERM') throw err;
    throw new SetupError("cannot mount /proc in the user namespace: the kernel allows that only where this machine's /proc is fully visible, with nothing mounted over parts of it (a container's masked /proc paths prevent it)", err);
  }
}

export { CannotStart, type Command } from './start-command.js';
