/**
 * Messages between the chroot executor (in tsbuild) and a chroot runner (runner.ts, a
 * process of its own used for one run, over its IPC channel). The runner copies the root
 * (so the copy of a whole tree never blocks tsbuild's event loop) and says what it
 * recorded, then starts the command:
 *
 *   runner: ready ─ tsbuild: run(plan) ─ runner: prepared ─ started ─ stdout/stderr* ─ exited ─ done
 *                                                 └──────── failed (could not start) ──────────── done
 *
 * `exited` comes while the command is still a zombie (waitid WNOWAIT), so its pid, the
 * id of its session and process group, cannot be reused while tsbuild kills what it
 * left behind (sweep.ts). A run is cancelled by killing its runner.
 */
import type { ExecutorErrorCode } from '../errors.js';
import type { MountSpec, UserSpec } from '../types.js';
import type { RootFiles } from './root-files.js';
import type { Stamp } from './snapshot.js';

/** The baseline and the run's own paths (changes.ts), as plain data. */
export interface Prepared {
  baseline: Array<[string, Stamp]>;
  ignored: { paths: string[]; created: string[] };
}

export interface ChrootPlan {
  /** The private root (realpath): an empty directory the runner fills with the merged lower dirs and the run's files. */
  root: string;
  lowerdirs: string[];
  files: RootFiles;
  mounts: MountSpec[];
  process: { args: string[]; env: string[]; cwd: string; user: UserSpec };
  stdin: 'ignore' | 'pipe';
  /** close_range(CLOSE_RANGE_CLOEXEC) works here (else fds are marked one by one). */
  closeRangeCloexec: boolean;
}

export type ToChroot =
  | { type: 'run'; plan: ChrootPlan }
  | { type: 'stdin'; data: Uint8Array }
  | { type: 'stdin-end' };

export type FromChroot =
  | { type: 'ready'; pid: number }
  | ({ type: 'prepared' } & Prepared)
  | { type: 'started'; pid: number }
  | { type: 'stdout' | 'stderr'; data: Uint8Array }
  | { type: 'exited'; code: number | null; signal: string | null }
  | { type: 'failed'; code: ExecutorErrorCode; message: string; exitCode: number }
  | { type: 'done' };
