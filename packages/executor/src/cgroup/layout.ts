/**
 * Where the cgroup hierarchies are and which cgroup tsbuild is in, read from
 * `/proc/self/mountinfo` and `/proc/self/cgroup` (pure parsing, so tests can hand in any
 * host's files). Handles every form hosts have:
 *
 * - pure cgroup v2 at /sys/fs/cgroup (systemd hosts): `0::/system.slice/x.service`;
 * - v2 inside a container's cgroup namespace: `0::/`, the mount's root is the namespace's;
 * - v1 (a hierarchy per controller, or co-mounted ones such as `cpu,cpuacct`) and hybrid
 *   (v1 controllers plus an empty v2 at /sys/fs/cgroup/unified);
 * - nothing mounted, or tsbuild's cgroup outside what is mounted, or the hierarchy hidden
 *   under another mount (a tmpfs over /sys/fs/cgroup): then it is left out.
 */

export interface CgroupLayout {
  /** The unified hierarchy: its mount point and tsbuild's own cgroup directory in it. */
  v2?: { mount: string; own: string };
  /** v1: controller name -> tsbuild's own cgroup directory in the hierarchy that has it. */
  v1: Map<string, string>;
}

interface MountEntry {
  root: string;
  dir: string;
  type: string;
  superOpts: string[];
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup mounts that are visible: a later mount on the same directory or one above hides a mount. */
function cgroupMounts(mountinfo: string): MountEntry[] {
  const all: MountEntry[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [type = '', , superOpts = ''] = line.slice(sep + 3).split(' ');
    all.push({ root: unescape(left[3] ?? ''), dir: unescape(left[4] ?? ''), type, superOpts: superOpts.split(',') });
  }
  const covers = (upper: string, dir: string) => upper === dir || upper === '/' || dir.startsWith(`${upper}/`);
  return all.filter((m, i) => (m.type === 'cgroup' || m.type === 'cgroup2') && !all.slice(i + 1).some((later) => covers(later.dir, m.dir)));
}

/** `dir` of the mount plus `path` relative to the mount's root, or undefined when `path` lies outside it. */
function inside(m: MountEntry, path: string): string | undefined {
  const root = m.root.endsWith('/') ? m.root : `${m.root}/`;
  if (path !== m.root && !path.startsWith(root)) return undefined;
  const rel = path.slice(m.root.length).replace(/^\/+/, '');
  return rel === '' ? m.dir : `${m.dir.replace(/\/+$/, '')}/${rel}`;
}

export function parseLayout(mountinfo: string, selfCgroup: string): CgroupLayout {
  const mounts = cgroupMounts(mountinfo);
  const layout: CgroupLayout = { v1: new Map() };
  for (const line of selfCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, list = '', path = '/'] = m;
    if (id === '0' && list === '') {
      for (const mnt of mounts.filter((x) => x.type === 'cgroup2')) {
        const own = inside(mnt, path);
        if (own !== undefined) {
          layout.v2 = { mount: mnt.dir, own };
          break;
        }
      }
      continue;
    }
    for (const controller of list.split(',').filter((c) => c && !c.startsWith('name='))) {
      for (const mnt of mounts.filter((x) => x.type === 'cgroup' && x.superOpts.includes(controller))) {
        const own = inside(mnt, path);
        if (own !== undefined) {
          layout.v1.set(controller, own);
          break;
        }
      }
    }
  }
  return layout;
}
