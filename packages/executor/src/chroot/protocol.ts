/**
 * Messages between the chroot executor (main thread) and a chroot worker thread:
 *
 *   worker: ready ─ main: run(plan) ─ worker: started ─ stdout/stderr* ─ exited ─ done
 *                                            └──────── failed (could not start) ── done
 *
 * `exited` comes while the command is still a zombie (waitid WNOWAIT), so its pid, the
 * id of its session and process group, cannot be reused while the main thread kills
 * what it left behind (sweep.ts).
 */
import type { ExecutorErrorCode } from '../errors.js';
import type { UserSpec } from '../types.js';

export interface ChrootPlan {
  /** The private root (realpath). */
  root: string;
  process: { args: string[]; env: string[]; cwd: string; user: UserSpec };
  stdin: 'ignore' | 'pipe';
  /** close_range(CLOSE_RANGE_CLOEXEC) works here (else fds are marked one by one). */
  closeRangeCloexec: boolean;
}

export type ToChroot = { type: 'run'; plan: ChrootPlan } | { type: 'stdin'; data: Uint8Array } | { type: 'stdin-end' };

export type FromChroot =
  | { type: 'ready'; tid: number }
  | { type: 'started'; pid: number }
  | { type: 'stdout' | 'stderr'; data: Uint8Array }
  | { type: 'exited'; code: number | null; signal: string | null }
  | { type: 'failed'; code: ExecutorErrorCode; message: string; exitCode: number }
  | { type: 'done' };
