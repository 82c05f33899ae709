/**
 * Starting a networking helper from tsbuild's main thread with posix_spawn (no fork of
 * tsbuild, see sandbox/spawn.ts), so it runs in the host's namespaces and tsbuild's own
 * cgroup (never in the sandbox's, whose limits are the command's). It gets exactly the
 * fds named in `keep` (tsbuild's are close-on-exec; dup2 of an fd onto itself clears the
 * flag in the child only), stdin and stdout on /dev/null, and stderr in a memfd read
 * back when it fails. A new session, so a terminal's Ctrl-C reaches tsbuild alone.
 */
import { readSync } from 'node:fs';
import * as libc from '../libc.js';

export interface SpawnedHelper {
  pid: number;
  pidfd: number;
  /** memfd holding what the helper wrote to stderr. */
  log: number;
}

export function spawnHelper(argv: readonly string[], keep: readonly number[]): SpawnedHelper {
  const log = libc.memfdCreate('tsbuild-net-log', 0);
  const fa = libc.spawnFileActions();
  const attr = libc.spawnAttr();
  try {
    libc.spawnAddOpen(fa, 0, '/dev/null', libc.O.RDONLY);
    libc.spawnAddOpen(fa, 1, '/dev/null', libc.O.WRONLY);
    libc.spawnAddDup2(fa, log, 2);
    for (const fd of keep) libc.spawnAddDup2(fa, fd, fd);
    libc.spawnAttrSetflags(attr, libc.POSIX_SPAWN.SETSID | libc.POSIX_SPAWN.SETSIGMASK | libc.POSIX_SPAWN.SETSIGDEF);
    libc.spawnAttrSetsigmask(attr, false);
    libc.spawnAttrSetsigdefault(attr, true);
    const pid = libc.posixSpawn(argv[0]!, argv, ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], fa, attr);
    return { pid, pidfd: libc.pidfdOpen(pid), log };
  } catch (err) {
    libc.close(log);
    throw err;
  } finally {
    libc.spawnFileActionsDestroy(fa);
    libc.spawnAttrDestroy(attr);
  }
}

/** The last lines the helper wrote to stderr (pasta's syslog complaints left out). */
export function helperLog(log: number): string {
  const buf = Buffer.alloc(16 << 10);
  let n = 0;
  try {
    n = readSync(log, buf, 0, buf.length, 0);
  } catch {
    return '';
  }
  return buf.toString('utf8', 0, n).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^Failed to send \d+ bytes to syslog/.test(l)).slice(-6).join('; ');
}
