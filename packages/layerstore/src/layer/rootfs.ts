/**
 * A writable root filesystem made of one upper directory over read-only lower
 * directories (topmost first), with overlayfs's rules: a 0:0 character device in a
 * higher layer hides the name below it (a whiteout), a directory marked
 * `trusted.overlay.opaque=y` hides everything below it, directories merge, and any
 * other entry hides what is below. Changes go to the upper directory only, in
 * overlay form, so the upper directory can be diffed into a layer and then used as
 * a lowerdir itself.
 *
 * Every path is resolved inside the root with chroot semantics: `..` stops at `/`,
 * absolute symlink targets restart at the root, at most 255 links are followed.
 * Nothing is ever resolved through a host symlink: all lookups are `lstat` of paths
 * whose every component was checked to be a real directory. The upper directory
 * must be private to this process while it is being written.
 *
 *   const root = new RootFs({ upper: '/store/tmp/up', lowers: [snap2, snap1] });
 *   const dest = await root.resolve('/usr/local/bin', { followFinal: true });
 *   const dir = await root.ensureDir(dest);   // copied up from the lowers as needed
 */
import type { Stats } from 'node:fs';
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { LayerstoreError, TarError } from '../errors.js';
import { getXattr, listXattrs, mknod, setXattr, S_IFCHR } from '../sys/libc.js';
import { hostPath, isDotDot, key, show, splitPath, type Components } from './paths.js';

export const OPAQUE_XATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque'];
const MAX_LINKS = 255;

export interface Entry {
  /** 0 is the upper directory, i >= 1 is lowers[i - 1]. */
  layer: number;
  host: Buffer;
  stat: Stats;
}

export interface RootFsOptions {
  upper: string;
  lowers?: readonly string[];
  /** How removals are recorded: overlay whiteouts (default when there are lowers) or plain deletion. */
  whiteouts?: 'overlay' | 'delete';
}

export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Extended attributes that describe overlay internals, never copied between layers. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

export class RootFs {
  readonly upper: Buffer;
  readonly lowers: readonly Buffer[];
  readonly whiteoutMode: 'overlay' | 'delete';
  private readonly lowerStat = new Map<string, Stats | null>();
  private readonly opaqueCache = new Map<string, boolean>();
  /** Upper dirs created by us where nothing existed below: their children need no lower lookups. */
  private readonly freshDirs = new Set<string>();
  /** Upper dirs known to be real directories (created or checked by us). */
  private readonly upperDirs = new Set<string>(['']);

  constructor(opts: RootFsOptions) {
    this.upper = Buffer.from(opts.upper);
    this.lowers = (opts.lowers ?? []).map((l) => Buffer.from(l));
    this.whiteoutMode = opts.whiteouts ?? (this.lowers.length > 0 ? 'overlay' : 'delete');
  }

  upperPath(cs: Components): Buffer {
    return hostPath(this.upper, cs);
  }

  /**
   * Resolve `p` (absolute, or relative to `cwd`) to a canonical path: no component is a
   * symlink, except the last one when `followFinal` is false.
   */
  async resolve(p: string | Buffer, opts: { followFinal?: boolean; cwd?: Components } = {}): Promise<Components> {
    const input = typeof p === 'string' ? Buffer.from(p) : p;
    const absolute = input[0] === 0x2f;
    const current: Components = absolute ? [] : [...(opts.cwd ?? [])];
    const queue = splitPath(input);
    let links = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (isDotDot(c)) {
        current.pop();
        continue;
      }
      const candidate = [...current, c];
      const last = queue.length === 0;
      if (!last || opts.followFinal) {
        const e = await this.lookup(candidate);
        if (e?.stat.isSymbolicLink()) {
          if (++links > MAX_LINKS) {
            throw new LayerstoreError('TSBUILD_LAYER_UNSAFE', `${show(input)}: too many levels of symbolic links`);
          }
          const target = await readlink(e.host, { encoding: 'buffer' });
          if (target[0] === 0x2f) current.length = 0;
          queue.unshift(...splitPath(target));
          continue;
        }
      }
      current.push(c);
    }
    return current;
  }

  /** What the merged view shows at a canonical path (symlinks not followed), if anything. */
  lookup(cs: Components): Promise<Entry | undefined> {
    return this.lookupFrom(0, cs);
  }

  /** Is something at `cs` in the lower layers alone? */
  private async existsBelow(cs: Components): Promise<boolean> {
    return this.lowers.length > 0 && (await this.lookupFrom(1, cs)) !== undefined;
  }

  /** Overlay lookup through layers[first..] (0 = upper, i >= 1 = lowers[i - 1]). */
  private async lookupFrom(first: number, cs: Components): Promise<Entry | undefined> {
    const layers = [this.upper, ...this.lowers];
    let visible: number[] = [];
    for (let li = first; li < layers.length; li++) visible.push(li);
    for (let i = 0; i < cs.length; i++) {
      const prefix = cs.slice(0, i + 1);
      const k = key(prefix);
      const last = i === cs.length - 1;
      let found: Entry | undefined;
      const next: number[] = [];
      for (const li of visible) {
        const host = hostPath(layers[li]!, prefix);
        const st = li === 0 ? await lstatOrNull(host) : await this.lowerStatOf(host);
        if (!st) continue;
        if (isWhiteout(st)) break;
        if (!found) {
          found = { layer: li, host, stat: st };
          if (!st.isDirectory()) return last ? found : undefined;
        } else if (!st.isDirectory()) break;
        next.push(li);
        if (li === 0 && this.freshDirs.has(k)) break;
        if (await this.isOpaque(host, li, k)) break;
      }
      if (!found) return undefined;
      if (last) return found;
      visible = next;
    }
    const top = layers[first]!;
    return { layer: first, host: top, stat: await lstat(top) };
  }

  /**
   * Names in the merged directory at canonical path `cs`, sorted bytewise: the union of
   * the layers' entries, minus names whited out above them, stopping at an opaque dir.
   */
  async readdir(cs: Components): Promise<Buffer[]> {
    const layers = [this.upper, ...this.lowers];
    const chain = await this.dirChain(cs);
    const decided = new Map<string, boolean>();
    for (const li of chain) {
      const dir = hostPath(layers[li]!, cs);
      for (const name of await readdir(dir, { encoding: 'buffer' })) {
        const k = name.toString('latin1');
        if (decided.has(k)) continue;
        const st = li === 0 ? await lstatOrNull(hostPath(dir, [name])) : await this.lowerStatOf(hostPath(dir, [name]));
        decided.set(k, st !== null && !isWhiteout(st));
      }
    }
    return [...decided].filter(([, visible]) => visible).map(([k]) => Buffer.from(k, 'latin1')).sort(Buffer.compare);
  }

  /** The layers (indices into [upper, ...lowers], top first) whose directory at `cs` shows in the merged view. */
  private async dirChain(cs: Components): Promise<number[]> {
    const layers = [this.upper, ...this.lowers];
    let visible = layers.map((_, i) => i);
    for (let i = 0; i <= cs.length; i++) {
      const prefix = cs.slice(0, i);
      const k = key(prefix);
      const next: number[] = [];
      for (const li of visible) {
        const host = hostPath(layers[li]!, prefix);
        const st = li === 0 ? await lstatOrNull(host) : await this.lowerStatOf(host);
        if (!st) continue;
        if (isWhiteout(st) || !st.isDirectory()) break;
        next.push(li);
        if (li === 0 && this.freshDirs.has(k)) break;
        if (i > 0 && (await this.isOpaque(host, li, k))) break;
      }
      visible = next;
      if (visible.length === 0) break;
    }
    return visible;
  }

  /**
   * Make `cs` a real directory in the upper dir, copying up ancestors that exist below
   * (same mode, owner, times and xattrs) and creating missing ones with `create`'s mode
   * and owner (default 0755 root:root). Fails when a non-directory is in the way.
   */
  async ensureDir(cs: Components, create: { mode?: number; uid?: number; gid?: number } = {}): Promise<Buffer> {
    for (let i = 1; i <= cs.length; i++) {
      const prefix = cs.slice(0, i);
      const k = key(prefix);
      if (this.upperDirs.has(k)) continue;
      const e = await this.lookup(prefix);
      const host = this.upperPath(prefix);
      if (e && !e.stat.isDirectory()) {
        throw new LayerstoreError('TSBUILD_LAYER_UNSAFE', `${show(prefix)}: not a directory`);
      }
      if (e?.layer === 0) {
        this.upperDirs.add(k);
        continue;
      }
      const parentFresh = this.freshDirs.has(key(prefix.slice(0, -1)));
      // Anything left in the upper at this name (a whiteout) is replaced; a directory
      // over a whiteout is opaque, so what the whiteout hid stays hidden.
      const overWhiteout = !e && this.whiteoutMode === 'overlay' && (await lstatOrNull(host)) !== null;
      await rm(host, { force: true, recursive: true });
      await mkdir(host);
      if (e) {
        await copyMeta(e.host, host, e.stat);
      } else {
        await lchown(host, create.uid ?? 0, create.gid ?? 0);
        await chmod(host, create.mode ?? 0o755);
        if (overWhiteout) {
          setXattr(host, OPAQUE_XATTRS[0]!, Buffer.from('y'));
          this.opaqueCache.set(`0:${k}`, true);
          this.freshDirs.add(k);
        } else if (parentFresh || this.lowers.length === 0 || !(await this.existsBelow(prefix))) this.freshDirs.add(k);
      }
      this.upperDirs.add(k);
    }
    return this.upperPath(cs);
  }

  /**
   * Make room for a new entry at `cs`: the parent becomes a real upper dir, and whatever
   * the merged view shows at `cs` is removed, unless it is a directory and `mergeDir`
   * (a directory entry over a directory merges, OCI image-spec).
   * Returns the upper path, and whether an existing directory is kept.
   */
  async prepareCreate(cs: Components, mergeDir: boolean): Promise<{ host: Buffer; existingDir: boolean }> {
    if (cs.length === 0) {
      if (mergeDir) return { host: this.upper, existingDir: true };
      throw new TarError('TSBUILD_LAYER_UNSAFE', 'refusing to replace the root directory', '/');
    }
    await this.ensureDir(cs.slice(0, -1));
    const host = this.upperPath(cs);
    const parentFresh = this.freshDirs.has(key(cs.slice(0, -1)));
    const e = parentFresh ? await lstatEntry(host) : await this.lookup(cs);
    if (e && mergeDir && e.stat.isDirectory()) {
      if (e.layer !== 0) await this.ensureDir(cs);
      return { host, existingDir: true };
    }
    if (e) await this.remove(cs, { keepWhiteout: false });
    else if (!parentFresh && (await lstatOrNull(host)) !== null) {
      // A whiteout of a lower entry: a directory replaces it as an opaque one.
      if (mergeDir) return { host: await this.ensureDir(cs), existingDir: true };
      await rm(host, { force: true });
    }
    return { host, existingDir: false };
  }

  /**
   * Remove what the merged view shows at `cs`. In overlay mode, a name that still
   * exists below is hidden with a whiteout (unless `keepWhiteout` is false because the
   * caller is about to create something at the same name; overlay then hides the lower
   * entry anyway, except for directories, which it would merge).
   */
  async remove(cs: Components, opts: { keepWhiteout?: boolean } = {}): Promise<void> {
    if (cs.length === 0) throw new TarError('TSBUILD_LAYER_UNSAFE', 'refusing to remove the root directory', '/');
    await this.ensureDir(cs.slice(0, -1));
    const host = this.upperPath(cs);
    await rm(host, { recursive: true, force: true });
    this.forget(cs);
    if (this.whiteoutMode === 'overlay' && (opts.keepWhiteout ?? true) && (await this.existsBelow(cs))) {
      mknod(host, S_IFCHR | 0o000, 0n);
    }
  }

  /** Mark an upper directory opaque: nothing below it shows through. */
  async makeOpaque(cs: Components): Promise<void> {
    const host = await this.ensureDir(cs);
    if (this.whiteoutMode === 'overlay') {
      setXattr(host, OPAQUE_XATTRS[0]!, Buffer.from('y'));
      this.opaqueCache.set(`0:${key(cs)}`, true);
    }
    this.freshDirs.add(key(cs));
  }

  /**
   * Delete what is below a directory in the upper dir, except entries `keep` accepts;
   * the children of a kept directory face the same test (an opaque directory hides
   * lower entries at every depth, also under directories the new layer touched).
   */
  async clearChildren(cs: Components, keep: (child: Components) => boolean): Promise<void> {
    const host = await this.ensureDir(cs);
    for (const name of await readdir(host, { encoding: 'buffer' })) {
      const child = [...cs, name];
      if (!keep(child)) {
        await rm(this.upperPath(child), { recursive: true, force: true });
        this.forget(child);
      } else if ((await lstat(this.upperPath(child))).isDirectory()) {
        await this.clearChildren(child, keep);
      }
    }
  }

  /** Copy a lower-layer file into the upper dir (for a hardlink to it), returning the upper path. */
  async copyUp(cs: Components): Promise<Buffer> {
    const e = await this.lookup(cs);
    if (!e) throw new LayerstoreError('TSBUILD_LAYER_UNSAFE', `${show(cs)}: no such file`);
    if (e.layer === 0) return e.host;
    await this.ensureDir(cs.slice(0, -1));
    const host = this.upperPath(cs);
    if (e.stat.isSymbolicLink()) await symlink(await readlink(e.host, { encoding: 'buffer' }), host);
    else if (e.stat.isFile()) await copyFile(e.host, host);
    else throw new LayerstoreError('TSBUILD_UNSUPPORTED', `${show(cs)}: cannot copy up this file type`);
    await copyMeta(e.host, host, e.stat);
    return host;
  }

  private forget(cs: Components): void {
    const k = key(cs);
    for (const set of [this.upperDirs, this.freshDirs]) {
      for (const d of set) if (d === k || d.startsWith(`${k}/`)) set.delete(d);
    }
    for (const c of this.opaqueCache.keys()) if (c === `0:${k}` || c.startsWith(`0:${k}/`)) this.opaqueCache.delete(c);
  }

  private async lowerStatOf(host: Buffer): Promise<Stats | null> {
    const k = host.toString('latin1');
    const hit = this.lowerStat.get(k);
    if (hit !== undefined) return hit;
    const st = await lstatOrNull(host);
    this.lowerStat.set(k, st);
    return st;
  }

  private async isOpaque(host: Buffer, layer: number, k: string): Promise<boolean> {
    const cacheKey = `${layer}:${k}`;
    const hit = this.opaqueCache.get(cacheKey);
    if (hit !== undefined) return hit;
    const v = OPAQUE_XATTRS.some((name) => getXattr(host, name)?.toString() === 'y');
    // Lower layers never change; in the upper only our own makeOpaque() sets the mark.
    if (layer > 0 || v) this.opaqueCache.set(cacheKey, v);
    return v;
  }
}

async function lstatOrNull(p: Buffer): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

async function lstatEntry(host: Buffer): Promise<Entry | undefined> {
  const st = await lstatOrNull(host);
  return st ? { layer: 0, host, stat: st } : undefined;
}

/** Copy-up metadata: owner, then mode (chown clears setuid), times, and non-overlay xattrs. */
export async function copyMeta(from: Buffer, to: Buffer, st: Stats): Promise<void> {
  await lchown(to, st.uid, st.gid);
  if (!st.isSymbolicLink()) await chmod(to, st.mode & 0o7777);
  for (const name of listXattrs(from)) {
    if (isOverlayXattr(name)) continue;
    const v = getXattr(from, name);
    if (v) setXattr(to, name, v);
  }
  await lutimes(to, st.atime, st.mtime);
}
