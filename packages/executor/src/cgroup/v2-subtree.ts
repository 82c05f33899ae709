/**
 * tsbuild's own part of the cgroup v2 hierarchy: one per process, made on the first run
 * with limits, removed when tsbuild exits. Run cgroups are made in it, one per run.
 *
 * cgroup v2 lets a cgroup (other than the hierarchy's real root) either hold processes or
 * enable controllers for its children, never both. So where the subtree goes depends on
 * what shares tsbuild's own cgroup (`own`):
 *
 *   nested   own holds only tsbuild (a systemd service or scope of its own, a container
 *            whose entrypoint is tsbuild): tsbuild moves itself into a leaf and enables
 *            the controllers in `own`, so every limit on `own` still applies.
 *              own/tsbuild-<pid>/supervisor     tsbuild itself
 *              own/tsbuild-<pid>/run-<id>       a run
 *   sibling  own holds other processes too (the CI job's shell, a test runner): the
 *            subtree goes next to `own`, in its parent.
 *              parent/tsbuild-<pid>/run-<id>
 *   root     own is the hierarchy's real root, which may hold processes and children.
 *              /tsbuild-<pid>/run-<id>
 *
 * A container's cgroup namespace root that holds other processes too allows none of
 * these: an error explains it. Controllers are enabled (`+memory` in
 * cgroup.subtree_control) down the chain as runs need them, and disabled again on exit.
 * The leftovers of a tsbuild that was killed (`tsbuild-<pid>` whose process is gone) are
 * removed by the next one that opens its subtree in the same place; nested ones go with
 * the cgroup they are in, which its owner (systemd, the container runtime) removes when
 * the unit or container ends. Only empty cgroups are ever removed.
 */
import { userNamespace } from '../rootless/namespace.js';
import { dirname, join } from 'node:path';
import { CgroupUnavailableError } from '../errors.js';
import { errnoOf, words, type CgroupFs } from './cgroupfs.js';
import { LIMIT_NAMES, type Controller, type LimitKey } from './settings.js';

export type SubtreeMode = 'nested' | 'sibling' | 'root';

export interface SubtreeOptions {
  fs: CgroupFs;
  /** The v2 mount point and tsbuild's own cgroup directory. */
  mount: string;
  own: string;
  /** tsbuild's process id. */
  pid: number;
  /** Whether a process exists (leftover sweeping); default: /proc/<pid> exists. */
  alive: (pid: number) => boolean;
}

/** A cgroup error as a sentence: what failed where, and what to do about it. */
export function explain(err: unknown, action: string, dir: string): string {
  switch (errnoOf(err)) {
    case 'EROFS':
      return `${dir} is on a read-only cgroup mount; give tsbuild a writable one (a container needs --privileged or a read-write /sys/fs/cgroup)`;
    case 'EACCES':
    case 'EPERM':
      return userNamespace()
        ? `no permission to ${action} in ${dir}: rootless tsbuild can set limits only in a cgroup delegated to the user (systemd: a user session with Delegate=yes, e.g. systemd-run --user --scope -p Delegate=yes tsbuild ...)`
        : `no permission to ${action} in ${dir}: tsbuild needs root and a cgroup it may manage (systemd: Delegate=yes)`;
    case 'EBUSY':
      return `cannot ${action} in ${dir}: it holds processes, and cgroup v2 enables controllers only below cgroups that hold none`;
    default:
      return `cannot ${action} in ${dir}: ${errnoOf(err) ?? (err as Error).message}`;
  }
}

export class V2Subtree {
  /** Controllers this process enabled, in order, to disable on close. */
  private readonly enabled: Array<{ dir: string; controller: Controller }> = [];

  private constructor(
    private readonly fs: CgroupFs,
    readonly mode: SubtreeMode,
    /** Where tsbuild-<pid> lives. */
    readonly parent: string,
    /** tsbuild-<pid>: the run cgroups' parent. */
    readonly base: string,
    private readonly pid: number,
    /** nested: tsbuild's cgroup before it moved into the supervisor leaf. */
    private readonly movedFrom: string | undefined,
  ) {}

  /** Decide where the subtree goes, sweep leftovers there, create it. `limit` names errors. */
  static open(o: SubtreeOptions, limit: LimitKey): V2Subtree {
    const fail = (why: string, cause?: unknown) => new CgroupUnavailableError(limit, `cannot apply the ${LIMIT_NAMES[limit]} limit: ${why}`, { cause });
    const { fs, own, pid } = o;
    const isRoot = fs.read(join(own, 'cgroup.type')) === undefined;
    const others = words(fs.read(join(own, 'cgroup.procs'))).map(Number).filter((p) => p !== pid);
    let mode: SubtreeMode;
    if (isRoot) mode = 'root';
    else if (others.length === 0) mode = 'nested';
    else if (own !== o.mount) mode = 'sibling';
    else {
      throw fail(
        `tsbuild's cgroup ${own} is the root of its cgroup namespace and also holds ${others.length} other process${others.length === 1 ? '' : 'es'} ` +
          `(${others.slice(0, 5).join(' ')}${others.length > 5 ? ' ...' : ''}); cgroup v2 enables controllers only below cgroups without processes. ` +
          'Run tsbuild as the container\'s only process (its entrypoint), or move the other processes into a child cgroup first',
      );
    }
    const parent = mode === 'sibling' ? dirname(own) : own;
    sweep(fs, parent, pid, o.alive);
    const base = join(parent, `tsbuild-${pid}`);
    try {
      mkdirIfMissing(fs, base);
    } catch (err) {
      throw fail(explain(err, 'create cgroups', parent), err);
    }
    let movedFrom: string | undefined;
    if (mode === 'nested') {
      const leaf = join(base, 'supervisor');
      try {
        mkdirIfMissing(fs, leaf);
        fs.write(join(leaf, 'cgroup.procs'), String(pid));
        movedFrom = own;
      } catch (err) {
        throw fail(explain(err, 'move tsbuild into its own leaf cgroup', base), err);
      }
    }
    return new V2Subtree(fs, mode, parent, base, pid, movedFrom);
  }

  /** Enable `controller` from the top of the subtree's chain down to `base`. */
  enable(controller: Controller, limit: LimitKey): void {
    for (const dir of [this.parent, this.base]) {
      if (words(this.fs.read(join(dir, 'cgroup.subtree_control'))).includes(controller)) continue;
      const available = words(this.fs.read(join(dir, 'cgroup.controllers')));
      if (!available.includes(controller)) {
        throw new CgroupUnavailableError(
          limit,
          `cannot apply the ${LIMIT_NAMES[limit]} limit: the ${controller} controller is not available in ${dir} ` +
            `(it has: ${available.join(' ') || 'none'}); its parent must enable it in cgroup.subtree_control (systemd: run tsbuild in a unit with Delegate=yes)`,
        );
      }
      try {
        this.fs.write(join(dir, 'cgroup.subtree_control'), `+${controller}`);
      } catch (err) {
        throw new CgroupUnavailableError(limit, `cannot apply the ${LIMIT_NAMES[limit]} limit: ${explain(err, `enable the ${controller} controller`, dir)}`, { cause: err });
      }
      this.enabled.push({ dir, controller });
    }
  }

  /**
   * Undo everything, as far as possible (synchronous, for process exit): remove the run
   * cgroups that are empty, disable what was enabled, move tsbuild back, remove the subtree.
   */
  close(): void {
    const quietly = (fn: () => void) => {
      try {
        fn();
      } catch {
        /* best effort: the next tsbuild sweeps what is left */
      }
    };
    for (const name of this.fs.children(this.base)) if (name !== 'supervisor') quietly(() => this.fs.rmdir(join(this.base, name)));
    for (const { dir, controller } of this.enabled.splice(0).reverse()) quietly(() => this.fs.write(join(dir, 'cgroup.subtree_control'), `-${controller}`));
    if (this.movedFrom !== undefined) {
      const from = this.movedFrom;
      quietly(() => this.fs.write(join(from, 'cgroup.procs'), String(this.pid)));
      quietly(() => this.fs.rmdir(join(this.base, 'supervisor')));
    }
    quietly(() => this.fs.rmdir(this.base));
  }
}

function mkdirIfMissing(fs: CgroupFs, dir: string): void {
  try {
    fs.mkdir(dir);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err;
  }
}

/** Remove the empty `tsbuild-<pid>` subtrees of processes that are gone. */
export function sweep(fs: CgroupFs, parent: string, self: number, alive: (pid: number) => boolean): void {
  for (const name of fs.children(parent)) {
    const m = /^tsbuild-(\d+)$/.exec(name);
    if (!m || Number(m[1]) === self || alive(Number(m[1]))) continue;
    removeTree(fs, join(parent, name));
  }
}

/** rmdir depth-first; a cgroup that still has processes stays (EBUSY), with its parents. */
export function removeTree(fs: CgroupFs, dir: string): void {
  for (const child of fs.children(dir)) removeTree(fs, join(dir, child));
  try {
    fs.rmdir(dir);
  } catch {
    /* busy or gone */
  }
}
