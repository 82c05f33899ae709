/**
 * tsbuild's part of the cgroup v1 hierarchies (v1 hosts, and the v1 controllers of hybrid
 * ones): in each hierarchy a run needs, `<own>/tsbuild-<pid>/run-<id>`, where `<own>` is
 * tsbuild's cgroup in that hierarchy, so its limits still apply. v1 has no
 * no-internal-processes rule, so nothing moves; the worker thread that spawns a sandbox
 * joins the run's cgroups (v1 places threads), which makes the sandbox born inside.
 *
 * A new v1 cpuset cgroup starts with no CPUs and no memory nodes and refuses tasks, so
 * every cpuset directory made here gets its parent's sets first (what
 * cgroup.clone_children would do). Leftovers of a killed tsbuild are swept like on v2.
 */
import { join } from 'node:path';
import { CgroupUnavailableError } from '../errors.js';
import { errnoOf, type CgroupFs } from './cgroupfs.js';
import { LIMIT_NAMES, type LimitKey } from './settings.js';
import { explain, removeTree, sweep } from './v2-subtree.js';

export class V1Tree {
  /** own dir of a hierarchy -> its tsbuild-<pid> dir, made on first use. */
  private readonly bases = new Map<string, string>();

  constructor(
    private readonly fs: CgroupFs,
    private readonly pid: number,
    private readonly alive: (pid: number) => boolean,
  ) {}

  /** Make `<own>/tsbuild-<pid>/run-<id>` in the hierarchy whose own cgroup is `own`. */
  makeRun(own: string, id: string, cpuset: boolean, limit: LimitKey): string {
    const fail = (err: unknown, dir: string) => new CgroupUnavailableError(limit, `cannot apply the ${LIMIT_NAMES[limit]} limit: ${explain(err, 'create cgroups', dir)}`, { cause: err });
    let base = this.bases.get(own);
    if (base === undefined) {
      sweep(this.fs, own, this.pid, this.alive);
      base = join(own, `tsbuild-${this.pid}`);
      try {
        this.mkdir(base, cpuset);
      } catch (err) {
        throw fail(err, own);
      }
      this.bases.set(own, base);
    }
    const dir = join(base, `run-${id}`);
    try {
      this.mkdir(dir, cpuset);
    } catch (err) {
      removeTree(this.fs, dir);
      throw fail(err, base);
    }
    return dir;
  }

  private mkdir(dir: string, cpuset: boolean): void {
    try {
      this.fs.mkdir(dir);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    if (!cpuset) return;
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if ((this.fs.read(join(dir, file)) ?? '').trim() !== '') continue;
      this.fs.write(join(dir, file), (this.fs.read(join(dir, '..', file)) ?? '').trim());
    }
  }

  /** Remove every empty cgroup made here (synchronous, for process exit). */
  close(): void {
    for (const base of this.bases.values()) removeTree(this.fs, base);
    this.bases.clear();
  }
}
