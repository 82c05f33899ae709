/**
 * Mount points inside the pivoted root, created when missing and recorded as stubs.
 *
 * Runs in the worker after pivot_root, so every path here resolves inside the sandbox:
 * an absolute symlink in the image points into the rootfs, never to the host, and no
 * process of the sandbox exists yet to race with (the PID namespace holds only the
 * init). What the sandbox had to create (and any lower-layer directory that creating it
 * copied up into the upper dir) is recorded, so the executor can remove it after the
 * run and the upper dir stays a faithful diff of what the command did (see stubs.ts).
 */
import { lstatSync, mkdirSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { close, O, openat2, RESOLVE } from '../libc.js';
import type { StubRecord } from '../protocol.js';
import { SetupError } from './setup-error.js';

export class TargetMaker {
  readonly stubs: StubRecord[] = [];
  private readonly copiedUp = new Set<string>();

  /** @param upperFd O_PATH fd of the upper dir (host side), or -1 when nothing needs recording. */
  constructor(private readonly upperFd: number) {}

  /**
   * Make sure `dest` exists as a directory (`kind` 'dir') or as a non-directory
   * ('file'), creating it and its missing parents as stubs. Returns the resolved path.
   */
  ensure(dest: string, kind: 'dir' | 'file', hops = 0): string {
    if (hops > 40) throw new SetupError(`mount point ${dest}: too many levels of symbolic links`);
    const what = kind === 'dir' ? 'a directory' : 'a file';
    const parts = posix.resolve('/', dest).split('/').filter(Boolean);
    let cur = '/';
    for (let i = 0; i < parts.length; i++) {
      const next = posix.join(cur, parts[i]!);
      const last = i === parts.length - 1;
      const st = lstatSync(next, { throwIfNoEntry: false });
      if (st?.isSymbolicLink()) {
        const resolved = this.realpath(next);
        if (resolved === undefined) {
          // A dangling link: create what it points to, resolved inside the root.
          const target = posix.resolve(posix.dirname(next), readlinkSync(next));
          return this.ensure(posix.join(target, ...parts.slice(i + 1)), kind, hops + 1);
        }
        cur = resolved;
        if (last && statSync(cur).isDirectory() !== (kind === 'dir')) throw new SetupError(`mount point ${dest}: ${cur} is not ${what}`);
        continue;
      }
      if (st) {
        if (!last && !st.isDirectory()) throw new SetupError(`mount point ${dest}: ${next} is not a directory`);
        if (last && st.isDirectory() !== (kind === 'dir')) throw new SetupError(`mount point ${dest}: ${next} is not ${what}`);
        cur = next;
        continue;
      }
      this.recordCopyUps(cur);
      if (last && kind === 'file') {
        writeFileSync(next, '', { flag: 'wx', mode: 0o644 });
        this.record({ path: next, kind: 'file' });
      } else {
        mkdirSync(next, { mode: 0o755 });
        this.record({ path: next, kind: 'dir' });
      }
      cur = next;
    }
    return cur;
  }

  private realpath(p: string): string | undefined {
    try {
      return realpathSync.native(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SetupError(`cannot resolve ${p}`, err);
    }
  }

  private record(r: StubRecord): void {
    if (this.upperFd >= 0) this.stubs.push(r);
  }

  /**
   * Before the first creation below `dir`: remember the directories that are only in the
   * lowers (creating below them copies them up). Directories on other mounts (/dev, a
   * tmpfs) are not in the overlay at all.
   */
  private recordCopyUps(dir: string): void {
    if (this.upperFd < 0) return;
    const rootDev = lstatSync('/').dev;
    let p = '/';
    for (const part of dir.split('/').filter(Boolean)) {
      p = posix.join(p, part);
      if (this.copiedUp.has(p) || this.stubs.some((s) => s.path === p) || this.inUpper(p)) continue;
      const st = lstatSync(p);
      if (st.dev !== rootDev) return;
      this.copiedUp.add(p);
      this.stubs.push({ path: p, kind: 'copied-up', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    }
  }

  private inUpper(p: string): boolean {
    try {
      close(openat2(this.upperFd, p.slice(1), { flags: O.PATH | O.NOFOLLOW, resolve: RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS | RESOLVE.NO_XDEV }));
      return true;
    } catch (err) {
      if ((err as { errno?: string }).errno === 'ENOENT') return false;
      return true; // a symlink or anything odd there: not ours to remove
    }
  }
}
