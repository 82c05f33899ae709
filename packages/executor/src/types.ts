/**
 * The executor's public contract. It knows directories and processes, never images.
 *
 * One `run()` is one sandbox, used once:
 *
 *   requested -> setting up -> running -> cleaned up -> resolved
 *
 * - setting up: fresh mount/PID/UTS/IPC (and, unless `network: 'host'`, net) namespaces;
 *   for `network: 'private'` a user-mode networking helper (network/) attached to the
 *   new net namespace and, with `ports`, publishing them on the host; the overlay rootfs, /proc, /dev, /sys, the masked and read-only paths, /etc/hosts,
 *   /etc/resolv.conf and /etc/hostname, the extra mounts, the cgroup; then the
 *   credentials and capabilities are dropped. A failure here resolves with exit code 125
 *   and `setupError`, and the command never runs.
 * - running: the command streams its output through `onStdout`/`onStderr`.
 * - cleaned up: when the command exits every other process of the sandbox is killed,
 *   the namespaces (with their mounts) disappear, the cgroup is removed, and the
 *   mount-point stubs the sandbox had to create in the upper dir are removed again, so
 *   the upper dir holds exactly what the command changed. Only then does `run()`
 *   resolve: the caller may diff the upper dir at once.
 *
 * In chroot isolation (`createExecutor({ isolation: 'chroot' })`, chroot/executor.ts) the
 * same holds without namespaces or mounts, except what a chroot cannot give, refused with
 * an error before anything runs: `network: 'none'`, ports, limits, a read-only root and
 * writable bind mounts; `private` runs on the host's network.
 *
 * ```ts
 * const ex = createExecutor();
 * const r = await ex.run({
 *   rootfs: { lowerdirs: [snapB, snapA], upperdir: up, workdir: work },
 *   process: { args: ['/bin/sh', '-c', 'apk add curl'], env: ['PATH=/usr/bin:/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
 *   network: 'private',
 *   onStdout: (b) => log(b),
 * });
 * if (r.exitCode !== 0) throw new Error(r.setupError ?? `exit ${r.exitCode}`);
 * await ex.close();
 * ```
 */

/** The root filesystem: an overlay of `lowerdirs` (topmost first) under `upperdir`. */
export interface RootfsSpec {
  /** Overlay lower directories, topmost first: up to 500, overlayfs's own limit (sandbox/rootfs.ts). */
  lowerdirs: string[];
  /** Receives every change. Without it a throwaway upper dir is used and deleted after the run. */
  upperdir?: string;
  /** Overlay work dir, on the same filesystem as `upperdir`; required with `upperdir`. */
  workdir?: string;
  /** Mount the root read-only (mounts on top of it stay as they are). */
  readonly?: boolean;
  /**
   * How deletions are recorded in `upperdir` (the layer store's whiteout form): `device`
   * (default) a 0:0 character device, as overlayfs writes them; `xattr` an empty file
   * marked `user.tsbuild.whiteout`, for an upper dir where 0:0 devices cannot be made
   * (on overlayfs itself). Only chroot isolation writes `xattr`; the sandbox, whose
   * overlayfs makes the whiteouts, refuses it. The lower dirs are read in either form.
   */
  whiteouts?: 'device' | 'xattr';
}

/**
 * Who runs the command: numeric ids as given, or Docker's `-u` syntax
 * (`name`, `uid`, `name:group`, `uid:gid`) resolved from the rootfs's own
 * /etc/passwd and /etc/group, with the user's supplementary groups from /etc/group.
 */
export type UserSpec = { uid: number; gid: number; groups?: number[] } | string;

export interface ProcessSpec {
  /** argv; `args[0]` is looked up in the PATH of `env` when it has no slash. */
  args: string[];
  /** The complete environment (`KEY=value`); nothing of tsbuild's own environment is added. HOME is added from /etc/passwd when missing. */
  env: string[];
  /** Absolute working directory; created (owned by the user) when missing. */
  cwd: string;
  user: UserSpec;
  /** Default `tsbuild`. */
  hostname?: string;
}

export interface MountSpec {
  type: 'bind' | 'tmpfs';
  /** Host path of a bind mount (recursive). */
  source?: string;
  /** Path inside the sandbox; created (and removed again afterwards) when missing. */
  destination: string;
  readonly?: boolean;
  /**
   * `ro`, `rw`, `noexec`, `exec`, `nosuid`, `suid` for either type, plus tmpfs's own
   * (`size=64m`, `mode=1777`). Every mount is `nodev`; tmpfs is `nosuid` unless `suid`.
   */
  options?: string[];
}

/**
 * Resource limits of one run, docker's flags of the same names. Each is a cgroup setting
 * (v1 or v2, whichever hierarchy has the controller); a limit that no writable cgroup
 * here can apply makes `run()` reject with a `CgroupUnavailableError` naming it, while
 * runs without limits never touch cgroups.
 */
export interface Limits {
  /** Memory limit in bytes (`--memory`). Exceeding it OOM-kills (exit code 137 when the command is the one killed) and sets `RunResult.oomKilled`. */
  memoryBytes?: number;
  /**
   * Memory plus swap in bytes (`--memory-swap`), at least `memoryBytes`; -1 allows unlimited
   * swap. Unset: twice `memoryBytes` where the kernel accounts swap (docker's default).
   */
  memorySwapBytes?: number;
  /** CPU quota as a number of CPUs (`--cpus`), e.g. 0.5: 50 ms per 100 ms period. Not with the two below. */
  cpus?: number;
  /** CFS period in microseconds (`--cpu-period`, 1000-1000000; default 100000). */
  cpuPeriodUs?: number;
  /** CFS quota in microseconds per period (`--cpu-quota`, at least 1000). */
  cpuQuotaUs?: number;
  /** Relative CPU weight (`--cpu-shares`, 2-262144; 1024 is everyone's default). v2 gets the equivalent cpu.weight. */
  cpuShares?: number;
  /** CPUs the command may run on (`--cpuset-cpus`), e.g. `0-2,4`. */
  cpusetCpus?: string;
  /** Memory nodes the command may allocate on (`--cpuset-mems`), e.g. `0`. */
  cpusetMems?: string;
  /** Maximum number of processes and threads of the command and its descendants (`--pids-limit`). */
  pids?: number;
}

/**
 * - `private`: a network namespace of its own with outbound access through user-mode
 *   networking (slirp4netns, else pasta; see network/helpers.ts): the sandbox is
 *   10.0.2.100/24 behind a gateway 10.0.2.2 that forwards to the host's network, never to
 *   the host's loopback; DNS is the host's resolvers (10.0.2.3 forwards to them when they
 *   listen on the host's loopback). What BuildKit gives a RUN step and docker a container.
 * - `host`: the host's network namespace.
 * - `none`: a network namespace with only `lo`.
 */
export type NetworkMode = 'private' | 'host' | 'none';

/** A port of the sandbox published on the host (docker's `-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/PROTO]`). */
export interface PortSpec {
  /** IPv4 address of the host to listen on; default all (0.0.0.0). */
  hostIp?: string;
  hostPort: number;
  containerPort: number;
  /** Default 'tcp'. */
  protocol?: 'tcp' | 'udp';
}

export interface RunRequest {
  rootfs: RootfsSpec;
  process: ProcessSpec;
  mounts?: MountSpec[];
  network: NetworkMode;
  /** Ports to publish on the host; only with `network: 'private'`. A port that cannot be bound fails the run before the command starts (exit code 125). */
  ports?: readonly PortSpec[];
  limits?: Limits;
  /** Default 'ignore' (stdin is /dev/null). */
  stdin?: 'ignore' | NodeJS.ReadableStream;
  /** Aborting kills every process of the sandbox; `run()` then rejects with code TSBUILD_CANCELLED. */
  signal?: AbortSignal;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Content of /etc/hosts. Default: localhost entries and the hostname. */
  etcHosts?: string;
  /** Content of /etc/resolv.conf. Default: the host's /etc/resolv.conf (for `private`, its nameservers the sandbox can reach, see network/resolv-conf.ts). */
  resolvConf?: string;
}

export interface RunResult {
  /** The command's exit code; 128+n when killed by signal n; 125 setup failure, 126 cannot execute, 127 not found. */
  exitCode: number;
  /** The signal that killed the command, e.g. 'SIGKILL'. */
  signal?: string;
  /** Why the command did not start (set with exit codes 125, 126 and 127). */
  setupError?: string;
  /** The kernel OOM-killed a process of the sandbox at the memory limit (`limits.memoryBytes`). */
  oomKilled?: boolean;
  durationMs: number;
}

export interface Executor {
  run(req: RunRequest): Promise<RunResult>;
  /** Kill every running sandbox, wait for their cleanup, stop the idle workers. */
  close(): Promise<void>;
}
