/**
 * Filesystem fixtures for tests: a tree snapshot to compare directories by (names as
 * bytes, types, modes, owners, contents, link targets, device numbers, xattrs,
 * hardlink groups), overlayfs mounts that are always undone, and temp dirs.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import { getXattr, listXattrs, majorOf, minorOf } from '../sys/libc.js';

export const run = promisify(execFile);

export interface Node {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  mode: number;
  uid: number;
  gid: number;
  /** sha256 of a file's content. */
  content?: string;
  /** Link target (latin1, so any bytes compare exactly). */
  link?: string;
  dev?: string;
  xattrs?: Record<string, string>;
  mtime?: number;
  /** Other names of the same inode (non-directories with nlink > 1 inside the tree). */
  links?: string[];
}

export interface TreeOptions {
  /** Include mtimes (whole seconds) of non-directories. */
  mtimes?: boolean;
  /** Include directory mtimes too. */
  dirMtimes?: boolean;
  /** Top-level names (latin1) left out. */
  skip?: string[];
  /** xattrs left out (default: security.selinux and overlay internals). */
  skipXattr?: (name: string) => boolean;
}

const defaultSkipXattr = (n: string) => n === 'security.selinux' || n.startsWith('trusted.overlay.') || n.startsWith('user.overlay.');

/** What one path is (not following a final symlink). */
export async function nodeOf(host: string | Buffer, skipXattr: (name: string) => boolean = defaultSkipXattr): Promise<Node> {
  const st = await lstat(host);
  const type: Node['type'] = st.isDirectory()
    ? 'dir'
    : st.isFile()
      ? 'file'
      : st.isSymbolicLink()
        ? 'symlink'
        : st.isCharacterDevice()
          ? 'char'
          : st.isBlockDevice()
            ? 'block'
            : st.isFIFO()
              ? 'fifo'
              : 'socket';
  const node: Node = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  if (type === 'file') node.content = createHash('sha256').update(await readFile(host)).digest('hex');
  if (type === 'symlink') node.link = (await readlink(host, { encoding: 'buffer' })).toString('latin1');
  if (type === 'char' || type === 'block') node.dev = `${majorOf(st.rdev)}:${minorOf(st.rdev)}`;
  const xattrs: Record<string, string> = {};
  for (const name of listXattrs(host).sort()) {
    if (!skipXattr(name)) xattrs[name] = getXattr(host, name)?.toString('hex') ?? '';
  }
  if (Object.keys(xattrs).length > 0) node.xattrs = xattrs;
  return node;
}

/** Every path under `root` (relative, latin1 keys) with what it is; the root itself is ''. */
export async function readTree(root: string, opts: TreeOptions = {}): Promise<Record<string, Node>> {
  const out: Record<string, Node> = {};
  const inodes = new Map<string, string[]>();
  const base = Buffer.from(root);
  async function visit(rel: Buffer): Promise<void> {
    const host = rel.length === 0 ? base : Buffer.concat([base, Buffer.from('/'), rel]);
    const st = await lstat(host);
    const key = rel.toString('latin1');
    const node = await nodeOf(host, opts.skipXattr);
    const { type } = node;
    if ((type === 'dir' ? opts.dirMtimes : opts.mtimes) && key !== '') node.mtime = Math.floor(st.mtimeMs / 1000);
    if (type !== 'dir' && st.nlink > 1) {
      const id = `${st.dev}:${st.ino}`;
      const names = inodes.get(id) ?? [];
      names.push(key);
      inodes.set(id, names);
      node.links = names;
    }
    out[key] = node;
    if (type !== 'dir') return;
    for (const name of (await readdir(host, { encoding: 'buffer' })).sort(Buffer.compare)) {
      if (rel.length === 0 && opts.skip?.includes(name.toString('latin1'))) continue;
      await visit(rel.length === 0 ? name : Buffer.concat([rel, Buffer.from('/'), name]));
    }
  }
  await visit(Buffer.alloc(0));
  // A hardlink group is known only once the walk is over; a group of one is no group.
  for (const node of Object.values(out)) {
    if (node.links && node.links.length < 2) delete node.links;
    else if (node.links) node.links = [...node.links].sort();
  }
  return out;
}

/** A temporary directory removed when the test ends (after any mount in it is gone). */
export async function tempDir(t: ExecutionContext, prefix = 'tsbuild-ls-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(async () => {
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A temporary `base` holding the empty `lower` and `upper` directories of a two-layer RootFs test. */
export async function lowerUpper(t: ExecutionContext): Promise<{ base: string; lower: string; upper: string }> {
  const base = await tempDir(t);
  const lower = join(base, 'lower');
  const upper = join(base, 'upper');
  await mkdir(lower);
  await mkdir(upper);
  return { base, lower, upper };
}

/** Mount points at or below `dir` (from /proc/self/mountinfo). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of info.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp === undefined) continue;
    const path = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (path === dir || path.startsWith(`${dir}/`)) out.push(path);
  }
  return out;
}

async function unmountUnder(dir: string): Promise<void> {
  for (const mp of (await mountsUnder(dir)).reverse()) await run('umount', ['-l', mp]).catch(() => {});
}

export interface OverlayDirs {
  lowers: string[];
  upper: string;
  work: string;
  merged: string;
}

/** Mount an overlay (lowers topmost first), run `fn` on the merged dir, always unmount. */
export async function withOverlay<T>(dirs: OverlayDirs, fn: (merged: string) => Promise<T>): Promise<T> {
  for (const d of [dirs.upper, dirs.work, dirs.merged]) await mkdir(d, { recursive: true });
  const options = `lowerdir=${dirs.lowers.join(':')},upperdir=${dirs.upper},workdir=${dirs.work}`;
  await run('mount', ['-t', 'overlay', 'overlay', '-o', options, dirs.merged]);
  try {
    return await fn(dirs.merged);
  } finally {
    await run('umount', [dirs.merged]);
  }
}
