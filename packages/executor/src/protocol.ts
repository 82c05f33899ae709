/**
 * Messages between the executor (main thread) and a sandbox worker thread.
 *
 *   worker: ready ─────────────────────────────────────────────────────────────┐
 *   main:   run(plan) ──> worker: init (PID 1 exists) ─> started ─> stdout/stderr* ─> exited
 *                                             └──────────> failed (setup error)    │
 *   main:   on exited/failed, SIGKILL the init (the whole PID namespace dies)  <───┘
 *   worker: done (init reaped, stubs listed) and the thread ends
 *
 * A `private` network adds `network` (the namespace's fd and the write end of a
 * readiness pipe) right after the unshare, before init: see sandbox/network.ts.
 */
import type { ExecutorErrorCode } from './errors.js';
import type { KernelFeatures } from './features.js';
import type { HelperKind } from './network/helpers.js';
import type { UserNamespace } from './rootless/namespace.js';
import type { NetworkHandoff } from './sandbox/network.js';
import type { MountSpec, NetworkMode, UserSpec } from './types.js';

/** Everything the worker needs, as plain data. */
export interface SandboxPlan {
  /** An empty host directory: the rootfs is mounted on it in the sandbox's own mount namespace. */
  mountpoint: string;
  /**
   * `copied` (rootless where overlayfs cannot be mounted in a user namespace): the lower
   * view already copied into this directory, bound as the root; the main thread writes
   * the changes back into `upperdir` afterwards (sandbox/copied-root.ts).
   */
  rootfs: { lowerdirs: string[]; upperdir: string; workdir: string; readonly: boolean; throwaway: boolean; copied?: string };
  process: { args: string[]; env: string[]; cwd: string; user: UserSpec; hostname: string };
  mounts: MountSpec[];
  network: NetworkMode;
  /** For `private`: which helper the main thread attaches (named in errors). */
  netHelper?: HelperKind;
  /** For `private`: use the network the idle worker prewarmed (its helper is the main thread's already). */
  netPrewarmed?: boolean;
  files: { hosts: string; resolvConf: string; hostname: string };
  stdin: 'ignore' | 'pipe';
  /** fd of the sealed init program (see init.ts). */
  initFd: number;
  /**
   * tsbuild runs in a user namespace (rootless, rootless/): the sandbox's namespaces belong
   * to it and it takes the rootless paths (sandbox/rootless.ts).
   */
  userns?: UserNamespace;
  /** What the kernel has beyond the sandbox's floor (features.ts). */
  kernel: KernelFeatures;
  /**
   * cgroup v2: an fd on the run cgroup's cgroup.procs, and the sealed tsbuild-enter
   * program through which the command joins it (cgroup/enter.ts).
   */
  cgroup?: { procsFd: number; enterFd: number };
}

/**
 * A mount point the sandbox created in the merged rootfs, or a directory of the lower
 * layers that creating it copied up into the upper dir. Paths are absolute inside the
 * root, with symlinks already resolved. `mode`/`uid`/`gid` are the attributes a
 * copied-up directory had, so its removal can check nothing else changed it.
 */
export interface StubRecord {
  path: string;
  kind: 'file' | 'dir' | 'copied-up';
  mode?: number;
  uid?: number;
  gid?: number;
}

export type ToWorker = { type: 'run'; plan: SandboxPlan } | { type: 'stdin'; data: Uint8Array } | { type: 'stdin-end' };

export type FromWorker =
  | { type: 'ready'; tid: number; network?: NetworkHandoff; prewarmFds?: number[] }
  | { type: 'network'; netns: number; go: number }
  | { type: 'init'; pid: number; pidfd: number }
  | { type: 'started'; pid: number }
  | { type: 'stdout' | 'stderr'; data: Uint8Array }
  | { type: 'exited'; code: number | null; signal: string | null }
  | { type: 'failed'; code: ExecutorErrorCode; message: string; exitCode: number }
  | { type: 'done'; stubs: StubRecord[] };
