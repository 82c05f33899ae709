/**
 * /proc for the sandbox's PID namespace, as a detached mount made by the worker thread
 * (which is not in that namespace: it only creates it for its children).
 *
 * - Linux 6.15+: procfs `pidns=` names the namespace from outside, by the path of the
 *   worker's pid_for_children (which exists once the init does).
 * - Before: a proc filesystem context belongs to the PID namespace of the task that
 *   opens it (fs/proc/root.c, proc_init_fs_context: task_active_pid_ns(current)), so the
 *   init, PID 1 of the namespace, opens it (init-code.ts) and writes the fd number on a
 *   pipe; the worker takes that fd with pidfd_getfd (5.6) and creates the mount from it.
 */
import { readSync } from 'node:fs';
import { errnoName, MOUNT_ATTR, pidfdGetfd } from '../libc.js';
import { createMount, newMount } from './mounts.js';
import { SetupError, UnsupportedError } from './setup-error.js';

const ATTRS = MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC;

export function procWithPidns(): number {
  try {
    return newMount('proc', { pidns: '/proc/thread-self/ns/pid_for_children' }, ATTRS);
  } catch (err) {
    throw new UnsupportedError('cannot mount /proc for the sandbox\'s PID namespace with procfs pidns= (Linux 6.15+)', err);
  }
}

/** Read the 4-byte fd number (or -errno) the init writes on `from`; EOF: the init is gone. */
function readInt32(from: number): number | undefined {
  const b = Buffer.alloc(4);
  let n = 0;
  while (n < 4) {
    let r: number;
    try {
      r = readSync(from, b, n, 4 - n, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EINTR' || (err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
    if (r === 0) return undefined;
    n += r;
  }
  return b.readInt32LE(0);
}

/** The proc context the init (`initPidfd`) opened, whose fd number it writes on `from`, as a detached mount. */
export function procFromInit(initPidfd: number, from: number): number {
  const fd = readInt32(from);
  if (fd === undefined) throw new SetupError('the sandbox init ended before it opened /proc');
  if (fd < 0) throw new UnsupportedError(`the sandbox init cannot open a proc filesystem context: fsopen(proc): ${errnoName(-fd)}`);
  let ctx: number;
  try {
    ctx = pidfdGetfd(initPidfd, fd);
  } catch (err) {
    throw new UnsupportedError('cannot take the /proc context from the sandbox init (pidfd_getfd refused: Yama ptrace_scope 3 or a security module forbids it; on Linux 6.15+ procfs pidns= needs no pidfd_getfd)', err);
  }
  return createMount(ctx, {}, ATTRS);
}
