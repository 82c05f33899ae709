/**
 * Remove the mount-point stubs a run created, so the upper dir is the command's diff.
 *
 * Runs on the host after the sandbox is gone, on the upper dir itself. Each recorded
 * path is re-resolved inside the upper dir with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS): if the command replaced a parent with a symlink, the removal
 * never follows it out of the upper dir (BuildKit CVE-2024-23652). A stub is removed only
 * while it still is what the sandbox made: an empty regular file, an empty directory, or
 * an empty copied-up directory whose mode and owner are unchanged; anything the command
 * put there stays.
 */
import { lstatSync } from 'node:fs';
import { posix } from 'node:path';
import { AT, close, O, open, openat2, RESOLVE, unlinkat } from './libc.js';
import type { StubRecord } from './protocol.js';

function removeOne(upperFd: number, s: StubRecord): void {
  const parent = posix.dirname(s.path).slice(1) || '.';
  const name = posix.basename(s.path);
  let dirFd: number;
  try {
    dirFd = openat2(upperFd, parent, { flags: O.PATH | O.DIRECTORY, resolve: RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS | RESOLVE.NO_XDEV });
  } catch {
    return;
  }
  try {
    const st = lstatSync(`/proc/self/fd/${dirFd}/${name}`, { throwIfNoEntry: false });
    if (!st) return;
    if (s.kind === 'file') {
      if (st.isFile() && st.size === 0) unlinkat(dirFd, name);
      return;
    }
    if (!st.isDirectory()) return;
    if (s.kind === 'copied-up' && ((st.mode & 0o7777) !== s.mode || st.uid !== s.uid || st.gid !== s.gid)) return;
    try {
      unlinkat(dirFd, name, AT.REMOVEDIR);
    } catch (err) {
      if ((err as { errno?: string }).errno !== 'ENOTEMPTY' && (err as { errno?: string }).errno !== 'EEXIST') throw err;
    }
  } finally {
    close(dirFd);
  }
}

/** Remove `stubs` (in the order they were created, deepest last) from `upperdir`. */
export function removeStubs(upperdir: string, stubs: readonly StubRecord[]): void {
  if (stubs.length === 0) return;
  const upperFd = open(upperdir, O.PATH | O.DIRECTORY);
  try {
    for (const s of [...stubs].reverse()) removeOne(upperFd, s);
  } finally {
    close(upperFd);
  }
}
