/**
 * An in-memory cgroupfs for tests of the cgroup decisions (which cgroups are made, which
 * controllers enabled, which error comes out) on any machine. It enforces what the
 * kernel enforces on cgroup v2 and the callers must cope with:
 *
 * - `cgroup.controllers` of a cgroup is what its parent enables (`cgroup.subtree_control`);
 *   enabling one that is not there is ENOENT;
 * - no internal processes: a cgroup other than the root that holds processes cannot
 *   enable controllers (EBUSY), and one that enables domain controllers (memory, io)
 *   cannot take processes (EBUSY);
 * - a controller stays enabled while a child enables it further (EBUSY on `-memory`);
 * - rmdir of a cgroup with processes or children is EBUSY;
 * - `cgroup.type` exists everywhere but in the real root; the interface files of a
 *   controller (memory.max, ...) exist in the cgroups it is enabled for;
 * - a read-only mount refuses every change with EROFS.
 *
 * cgroup v1 mounts (`mountV1`) have none of these rules: every directory has the files of
 * the hierarchy's controllers and a `tasks` file.
 */
import type { CgroupFs } from '../cgroup/cgroupfs.js';

interface Node {
  parent: Node | undefined;
  children: Map<string, Node>;
  procs: Set<number>;
  subtree: Set<string>;
  values: Map<string, string>;
  mount: Mount;
}

interface Mount {
  path: string;
  version: 1 | 2;
  controllers: string[];
  readonly: boolean;
  root: Node;
}

const DOMAIN = new Set(['memory', 'io', 'hugetlb', 'rdma', 'misc']);
const FILES: Record<string, string[]> = {
  memory: ['memory.max', 'memory.swap.max', 'memory.events', 'memory.current'],
  cpu: ['cpu.max', 'cpu.weight'],
  cpuset: ['cpuset.cpus', 'cpuset.mems'],
  pids: ['pids.max', 'pids.current', 'pids.events'],
  hugetlb: ['hugetlb.2MB.max'],
};
const V1_FILES: Record<string, string[]> = {
  memory: ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.oom_control'],
  cpu: ['cpu.cfs_period_us', 'cpu.cfs_quota_us', 'cpu.shares'],
  cpuset: ['cpuset.cpus', 'cpuset.mems'],
  pids: ['pids.max'],
};

function errno(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

/**
 * CgroupFs's eight operations (one per kernfs call the cgroup code makes) plus the set-up a
 * test needs (mount a v1 or v2 hierarchy, create a cgroup, ask where a pid is): more than
 * seven methods because it is a fake of a filesystem, not an interface of its own.
 */
export class FakeCgroupFs implements CgroupFs {
  private readonly mounts: Mount[] = [];
  /** Every successful change, in order: `mkdir DIR`, `write FILE VALUE`, `rmdir DIR`. */
  readonly log: string[] = [];
  private nextFd = 1000;

  mountV2(path: string, controllers: string[], opts: { readonly?: boolean } = {}): this {
    return this.mount(path, 2, controllers, opts.readonly ?? false);
  }

  mountV1(path: string, controllers: string[]): this {
    return this.mount(path, 1, controllers, false);
  }

  /** Make `dir` (and missing parents) with processes and enabled controllers, bypassing the rules. */
  cgroup(dir: string, opts: { procs?: number[]; subtree?: string[] } = {}): this {
    const { mount, parts } = this.split(dir);
    let node = mount.root;
    for (const p of parts) {
      let next = node.children.get(p);
      if (!next) node.children.set(p, (next = newNode(mount, node)));
      node = next;
    }
    for (const pid of opts.procs ?? []) this.place(node, pid);
    for (const c of opts.subtree ?? []) node.subtree.add(c);
    return this;
  }

  /** The cgroup directory (of a v2 mount) that holds `pid`. */
  where(pid: number): string | undefined {
    for (const m of this.mounts) {
      if (m.version !== 2) continue;
      const found = find(m.root, (n) => n.procs.has(pid));
      if (found) return pathOf(found);
    }
    return undefined;
  }

  exists(dir: string): boolean {
    return this.node(dir) !== undefined;
  }

  read(path: string): string | undefined {
    const { node, file } = this.file(path);
    if (!node) return undefined;
    if (file === 'cgroup.procs' || file === 'tasks') return [...node.procs].map((p) => `${p}\n`).join('');
    if (node.mount.version === 1) return this.has(node, file) ? node.values.get(file) ?? '' : undefined;
    if (file === 'cgroup.controllers') return `${[...controllersOf(node)].join(' ')}\n`;
    if (file === 'cgroup.subtree_control') return `${[...node.subtree].join(' ')}\n`;
    if (file === 'cgroup.type') return node.parent ? 'domain\n' : undefined;
    if (!this.has(node, file)) return undefined;
    return node.values.get(file) ?? (file === 'memory.events' ? 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n' : 'max\n');
  }

  write(path: string, data: string): void {
    const { node, file } = this.file(path);
    if (!node) throw errno('ENOENT', path);
    if (node.mount.readonly) throw errno('EROFS', path);
    if (file === 'cgroup.procs' || file === 'tasks') {
      if (node.mount.version === 2 && node.parent && [...node.subtree].some((c) => DOMAIN.has(c))) throw errno('EBUSY', path);
      this.place(node, Number(data));
    } else if (node.mount.version === 2 && file === 'cgroup.subtree_control') {
      for (const word of data.split(/\s+/).filter(Boolean)) {
        const c = word.slice(1);
        if (word.startsWith('+')) {
          if (!controllersOf(node).has(c)) throw errno('ENOENT', path);
          if (!node.subtree.has(c) && node.parent && node.procs.size > 0) throw errno('EBUSY', path);
          node.subtree.add(c);
        } else {
          if ([...node.children.values()].some((k) => k.subtree.has(c))) throw errno('EBUSY', path);
          node.subtree.delete(c);
        }
      }
    } else if (this.has(node, file)) {
      node.values.set(file, data);
    } else {
      throw errno('ENOENT', path);
    }
    this.log.push(`write ${path} ${data}`);
  }

  mkdir(path: string): void {
    const { mount, parts } = this.split(path);
    const parent = this.node(pathJoin(mount.path, parts.slice(0, -1)));
    if (!parent) throw errno('ENOENT', path);
    if (mount.readonly) throw errno('EROFS', path);
    const name = parts.at(-1)!;
    if (parent.children.has(name)) throw errno('EEXIST', path);
    parent.children.set(name, newNode(mount, parent));
    this.log.push(`mkdir ${path}`);
  }

  rmdir(path: string): void {
    const node = this.node(path);
    if (!node || !node.parent) throw errno('ENOENT', path);
    if (node.mount.readonly) throw errno('EROFS', path);
    if (node.children.size > 0 || node.procs.size > 0) throw errno('EBUSY', path);
    for (const [k, v] of node.parent.children) if (v === node) node.parent.children.delete(k);
    this.log.push(`rmdir ${path}`);
  }

  children(dir: string): string[] {
    return [...(this.node(dir)?.children.keys() ?? [])];
  }

  openForWrite(file: string): number {
    if (!this.file(file).node) throw errno('ENOENT', file);
    return this.nextFd++;
  }

  close(): void {}

  private mount(path: string, version: 1 | 2, controllers: string[], readonly: boolean): this {
    const m: Mount = { path, version, controllers, readonly, root: undefined as unknown as Node };
    m.root = newNode(m, undefined);
    this.mounts.push(m);
    return this;
  }

  private has(node: Node, file: string): boolean {
    if (node.mount.version === 1) return !!node.parent && node.mount.controllers.some((c) => V1_FILES[c]?.includes(file));
    return !!node.parent && [...controllersOf(node)].some((c) => FILES[c]?.includes(file));
  }

  private place(node: Node, pid: number): void {
    for (const m of this.mounts) if (m === node.mount) find(m.root, (n) => (n.procs.delete(pid), false));
    node.procs.add(pid);
  }

  private split(path: string): { mount: Mount; parts: string[] } {
    const mount = [...this.mounts].sort((a, b) => b.path.length - a.path.length).find((m) => path === m.path || path.startsWith(`${m.path}/`));
    if (!mount) throw errno('ENOENT', path);
    return { mount, parts: path.slice(mount.path.length).split('/').filter(Boolean) };
  }

  private node(dir: string): Node | undefined {
    let parts: string[];
    let mount: Mount;
    try {
      ({ mount, parts } = this.split(dir));
    } catch {
      return undefined;
    }
    let node: Node | undefined = mount.root;
    for (const p of parts) node = node?.children.get(p);
    return node;
  }

  private file(path: string): { node: Node | undefined; file: string } {
    const slash = path.lastIndexOf('/');
    return { node: this.node(path.slice(0, slash)), file: path.slice(slash + 1) };
  }
}

function newNode(mount: Mount, parent: Node | undefined): Node {
  return { parent, children: new Map(), procs: new Set(), subtree: new Set(), values: new Map(), mount };
}

function controllersOf(node: Node): Set<string> {
  return node.parent ? node.parent.subtree : new Set(node.mount.controllers);
}

function find(node: Node, pred: (n: Node) => boolean): Node | undefined {
  if (pred(node)) return node;
  for (const c of node.children.values()) {
    const f = find(c, pred);
    if (f) return f;
  }
  return undefined;
}

function pathOf(node: Node): string {
  const parts: string[] = [];
  for (let n: Node = node; n.parent; n = n.parent) for (const [k, v] of n.parent.children) if (v === n) parts.unshift(k);
  return pathJoin(node.mount.path, parts);
}

function pathJoin(base: string, parts: string[]): string {
  return parts.length === 0 ? base : `${base}/${parts.join('/')}`;
}
