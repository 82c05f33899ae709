/**
 * Ending every process of a chroot run. There is no PID namespace to end with its init,
 * so the run's processes are found in /proc: those in the command's session or process
 * group (it is started in a new session, whose id is its pid), and those whose root is
 * the run's private root (readable for processes of tsbuild's own uid, or with
 * CAP_SYS_PTRACE). Each round kills what it finds, until a round finds none.
 *
 * What can escape: a process that leaves the session (setsid) and runs as another user
 * whose /proc/PID/root tsbuild may not read, or that a root command chroots elsewhere.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const MAX_ROUNDS = 200;

function info(pid: number): { state: string; pgrp: number; session: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, pgrp: Number(f[2]), session: Number(f[3]) };
  } catch {
    return undefined;
  }
}

function rootOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return undefined;
  }
}

/**
 * The live processes of the run whose command has pid `leader` and root `root`. `leader`
 * only while that pid is still the command's (alive, or a zombie not yet reaped): a
 * reaped pid can be another process's, session and group ids included. `spare`: a
 * process left out (the run's runner, chrooted there too, while it still reports).
 */
export function runProcesses(leader: number | undefined, root: string, spare?: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || pid === spare) continue;
    const i = info(pid);
    if (!i || i.state === 'Z' || i.state === 'X') continue;
    if ((leader !== undefined && (i.session === leader || i.pgrp === leader)) || rootOf(pid) === root) out.push(pid);
  }
  return out;
}

/** SIGKILL every process of the run until none is left (see runProcesses); returns how many were killed. */
export function sweep(leader: number | undefined, root: string, spare?: number): number {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let killed = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const found = runProcesses(leader, root, spare);
    if (found.length === 0) break;
    for (const pid of found) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        /* gone meanwhile */
      }
    }
    Atomics.wait(pause, 0, 0, 1);
  }
  return killed;
}
