/**
 * The few file operations the cgroup code makes, behind an interface so that tests can
 * hand in a fake cgroupfs (testing/fake-cgroupfs.ts) that enforces the kernel's rules,
 * and check which cgroups are created, which controllers enabled and which error comes
 * out, without a kernel that has those controllers.
 *
 * Paths are absolute. Failures are Node-style errors with an errno `code` (EBUSY,
 * ENOENT, EROFS, ...), as the kernel gives them; the callers turn them into messages.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync, constants as fsc } from 'node:fs';

/** Eight methods on purpose: one per file operation on kernfs, each as small as the call. */
export interface CgroupFs {
  /** A file's content, or undefined when it does not exist. */
  read(path: string): string | undefined;
  write(path: string, data: string): void;
  mkdir(path: string): void;
  rmdir(path: string): void;
  /** Names of the child cgroups (directories) of `dir`; [] when it does not exist. */
  children(dir: string): string[];
  /** An fd open for writing on `file` (close-on-exec), to join a cgroup by writing a pid to it. */
  openForWrite(file: string): number;
  close(fd: number): void;
}

export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** The real cgroupfs through node:fs (synchronous: these are kernfs files, never slow). */
export const nodeCgroupFs: CgroupFs = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    }
  },
  write(path, data) {
    // Never O_CREAT: a missing control file is an error (ENOENT), not a new file.
    const fd = openSync(path, fsc.O_WRONLY);
    try {
      writeFileSync(fd, data);
    } finally {
      closeSync(fd);
    }
  },
  mkdir: (path) => mkdirSync(path),
  rmdir: (path) => rmdirSync(path),
  children(dir) {
    try {
      return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw err;
    }
  },
  openForWrite: (file) => openSync(file, fsc.O_WRONLY),
  close: (fd) => closeSync(fd),
};

/** The whitespace-separated words of a control file such as cgroup.controllers. */
export function words(text: string | undefined): string[] {
  return (text ?? '').split(/\s+/).filter(Boolean);
}

/** `key value` lines (memory.events, memory.oom_control) as numbers. */
export function keyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}
