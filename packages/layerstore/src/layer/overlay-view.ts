/**
 * The merged view of an upper directory over read-only lower directories (topmost
 * first), with overlayfs's rules (see rootfs.ts), and what is remembered about it.
 * RootFs adds the writes.
 *
 * Paths are walked one component at a time from the root, carrying the layers whose
 * directory shows at the current path, so each component is looked at once.
 *
 * What is remembered (a tree of PathNodes, one per path component): the lower
 * directories never change while a view exists, so what they show at a path (entry,
 * directories, opaque marks, symlink targets) is kept for its lifetime. The upper dir
 * is trusted only once the RootFs has written to it (`owned`: it is then private to
 * this process): from then on, the upper directories it made or walked through are
 * remembered with their opaque marks, and walked through without asking the kernel
 * again. A RootFs that only reads (a build context, which the user may change between
 * steps) looks at every upper component every time. Whatever replaces a path must
 * `forget` it, which drops what is known at and below it, so a directory that became a
 * symlink, a file or a whiteout is never walked through again. The last component of
 * a lookup is always `lstat`ed.
 */
import type { Stats } from 'node:fs';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { LayerstoreError } from '../errors.js';
import { isDotDot, show, splitPath, type Components } from './paths.js';
import { DEVICE_FORM, isOpaque, isWhiteout, mayBeWhiteout, WHITEOUT_XATTR, type OverlayForm } from './whiteout.js';

const MAX_LINKS = 255;

export interface Entry {
  /** 0 is the upper directory, i >= 1 is lowers[i - 1]. */
  layer: number;
  host: Buffer;
  stat: Stats;
}

/** Extended attributes that describe overlay internals (and the `xattr` whiteout form's marker), never copied between layers. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.') || name === WHITEOUT_XATTR;
}

/** What is known about one canonical path. Names are latin1 strings, so any bytes survive. */
export interface PathNode {
  readonly parent: PathNode | undefined;
  readonly name: string;
  /** The path from the root, components joined with '/'. */
  readonly rel: string;
  /** Remembered children (only those something is known about). */
  children?: Map<string, PathNode>;
  /** What the lower layers alone show here (never changes). */
  lower?: LowerView;
  /** The upper dir has a real directory here (remembered only while the upper is private). */
  upperDir?: boolean;
  /** That upper directory's opaque mark, once read or set. */
  opaque?: boolean;
  /** An upper dir made by us where nothing was below, or made opaque: no lower lookups under it. */
  fresh?: boolean;
}

export interface LowerView {
  /** The topmost lower entry shown at this path, if any. */
  entry: Entry | undefined;
  /** Lower layers (top first) whose directory shows here; empty unless `entry` is a directory. */
  dirs: readonly number[];
  /** A symlink entry's target. */
  link?: Buffer;
}

/** A walk's position: a directory of the merged view, or a path where nothing is (upper false, no lowers). */
export interface At {
  node: PathNode;
  /** The upper dir has a real directory here. */
  upper: boolean;
  /** Lower layers whose directory shows here, through the upper (none under an opaque or fresh upper dir). */
  lowers: readonly number[];
}

export const NO_LAYERS: readonly number[] = [];

/**
 * Lookups in the merged view; a RootFs (rootfs.ts) is one, with the writes. Its public
 * surface is three methods (resolve, lookup, readdir); the protected ones are the walk that
 * RootFs shares.
 */
export class OverlayView {
  readonly upper: Buffer;
  readonly lowers: readonly Buffer[];
  /** [upper, ...lowers] as latin1 strings, to build host paths from node paths. */
  private readonly bases: string[];
  private readonly allLowers: readonly number[];
  protected readonly tree: PathNode = { parent: undefined, name: '', rel: '', upperDir: true };
  /** Set by the first write: from then on the upper dir is private and its directories are remembered. */
  protected owned = false;
  /** lstat of lower paths listed by readdir, by `${layer}:${rel}`. */
  private readonly lowerStats = new Map<string, Stats | null>();

  /** @param overlayForm the store's overlay form (whiteout.ts): its snapshots' opaque xattr and whiteouts. */
  constructor(upper: string, lowers: readonly string[], readonly overlayForm: OverlayForm = DEVICE_FORM) {
    this.upper = Buffer.from(upper);
    this.lowers = lowers.map((l) => Buffer.from(l));
    this.bases = [this.upper, ...this.lowers].map((b) => b.toString('latin1'));
    this.allLowers = this.lowers.map((_, i) => i + 1);
  }

  /**
   * Resolve `p` (absolute, or relative to `cwd`; components are taken as absolute) to a
   * canonical path: no component is a symlink, except the last one when `followFinal`
   * is false.
   */
  async resolve(p: string | Buffer | Components, opts: { followFinal?: boolean; cwd?: Components } = {}): Promise<Components> {
    const parts = Array.isArray(p) ? [...p] : splitPath(p);
    const absolute = Array.isArray(p) || (typeof p === 'string' ? p.startsWith('/') : p[0] === 0x2f);
    const current: Components = absolute ? [] : [...(opts.cwd ?? [])];
    const trail: At[] = [this.rootAt()];
    for (const c of current) trail.push(this.step(trail[trail.length - 1]!, c, false).next);
    const queue = parts.reverse(); // next component last
    let links = 0;
    while (queue.length > 0) {
      const c = queue.pop()!;
      if (isDotDot(c)) {
        if (current.length > 0) {
          current.pop();
          trail.pop();
        }
        continue;
      }
      if (queue.length > 0 || opts.followFinal) {
        const { entry, next } = this.step(trail[trail.length - 1]!, c, false);
        if (entry?.stat.isSymbolicLink()) {
          if (++links > MAX_LINKS) {
            const shown = Array.isArray(p) ? `/${show(p)}` : show(p);
            throw new LayerstoreError('TSBUILD_LAYER_UNSAFE', `${shown}: too many levels of symbolic links`);
          }
          const target = this.linkOf(entry, next.node);
          if (target[0] === 0x2f) {
            current.length = 0;
            trail.length = 1;
          }
          queue.push(...splitPath(target).reverse());
          continue;
        }
        trail.push(next);
      }
      current.push(c);
    }
    return current;
  }

  /** What the merged view shows at a canonical path (symlinks not followed), if anything. */
  async lookup(cs: Components): Promise<Entry | undefined> {
    return this.entryAt(cs);
  }

  /**
   * Names in the merged directory at canonical path `cs`, sorted bytewise: the union of
   * the layers' entries, minus names whited out above them, stopping at an opaque dir.
   */
  async readdir(cs: Components): Promise<Buffer[]> {
    const at = this.walk(cs, true);
    const chain = at.upper ? [0, ...at.lowers] : at.lowers;
    const rel = at.node.rel;
    const decided = new Map<string, boolean>();
    for (const li of chain) {
      for (const d of readdirSync(this.host(li, rel), { encoding: 'buffer', withFileTypes: true })) {
        const k = d.name.toString('latin1');
        if (decided.has(k)) continue;
        if (!mayBeWhiteout(d, this.overlayForm.whiteout)) decided.set(k, true);
        else {
          const childRel = rel === '' ? k : `${rel}/${k}`;
          const st = li === 0 ? lstatOrNull(this.host(0, childRel)) : this.lowerStat(li, childRel);
          decided.set(k, st !== null && !isWhiteout(st, this.host(li, childRel), this.overlayForm.whiteout));
        }
      }
    }
    return [...decided].filter(([, visible]) => visible).map(([k]) => Buffer.from(k, 'latin1')).sort(Buffer.compare);
  }

  // --- walking the merged view ---

  protected host(layer: number, rel: string): Buffer {
    return Buffer.from(rel === '' ? this.bases[layer]! : `${this.bases[layer]}/${rel}`, 'latin1');
  }

  /** The root; for a listing, an upper root made opaque hides the lowers (lookups ignore that mark). */
  protected rootAt(listing = false): At {
    return { node: this.tree, upper: true, lowers: listing && this.tree.fresh ? NO_LAYERS : this.allLowers };
  }

  private walk(cs: Components, listing = false): At {
    let at = this.rootAt(listing);
    for (const c of cs) at = this.step(at, c, false).next;
    return at;
  }

  protected entryAt(cs: Components): Entry | undefined {
    if (cs.length === 0) return { layer: 0, host: this.upper, stat: lstatSync(this.upper) };
    let at = this.rootAt();
    for (let i = 0; i < cs.length - 1; i++) at = this.step(at, cs[i]!, false).next;
    return this.step(at, cs[cs.length - 1]!, true).entry;
  }

  /**
   * One component down from `at`: the entry the merged view shows there (for a
   * remembered upper directory only when `wantStat`), and where the walk stands then.
   */
  protected step(at: At, name: Buffer, wantStat: boolean): { entry: Entry | undefined; next: At } {
    const node = this.child(at.node, name);
    let entry: Entry | undefined;
    let upper = false;
    if (at.upper) {
      if (node.upperDir === true && !wantStat) upper = true;
      else {
        const host = this.host(0, node.rel);
        const st = lstatOrNull(host);
        if (st) {
          if (isWhiteout(st, host, this.overlayForm.whiteout)) return { entry: undefined, next: nothingAt(node) };
          entry = { layer: 0, host, stat: st };
          if (!st.isDirectory()) return { entry, next: nothingAt(node) };
          upper = true;
          if (this.owned && node.upperDir !== true) this.keep(node).upperDir = true;
        }
      }
    }
    let lowers = NO_LAYERS;
    if (at.lowers.length > 0 && !(upper && this.cutsLowers(node))) {
      // at.lowers is the parent's own lower view here: nothing above cut it.
      const view = this.lowerView(node, at.lowers);
      if (!upper) entry = view.entry;
      lowers = view.dirs;
    }
    return { entry, next: { node, upper, lowers } };
  }

  /** Does the upper directory at `node` hide the lowers (fresh, or opaque)? */
  protected cutsLowers(node: PathNode): boolean {
    if (node.fresh) return true;
    if (node.opaque !== undefined) return node.opaque;
    const v = isOpaque(this.host(0, node.rel), this.overlayForm.opaque);
    if (node.upperDir) node.opaque = v;
    return v;
  }

  /** What the lower layers alone show at `node`, given the lower directories of its parent. */
  protected lowerView(node: PathNode, parentDirs: readonly number[]): LowerView {
    if (node.lower) return node.lower;
    let entry: Entry | undefined;
    const dirs: number[] = [];
    for (const li of parentDirs) {
      const host = this.host(li, node.rel);
      const st = lstatOrNull(host);
      if (!st) continue;
      if (isWhiteout(st, host, this.overlayForm.whiteout)) break;
      if (!entry) {
        entry = { layer: li, host, stat: st };
        if (!st.isDirectory()) break;
      } else if (!st.isDirectory()) break;
      dirs.push(li);
      if (isOpaque(host, this.overlayForm.opaque)) break;
    }
    node.lower = { entry, dirs };
    this.keep(node);
    return node.lower;
  }

  /** The lower layers' view at `node` whatever the upper shows above it (for whiteouts). */
  protected lowerOf(node: PathNode): LowerView {
    const pending: PathNode[] = [];
    let n = node;
    while (!n.lower && n.parent) {
      pending.push(n);
      n = n.parent;
    }
    let view: LowerView = n.lower ?? { entry: undefined, dirs: this.allLowers };
    for (let i = pending.length - 1; i >= 0; i--) view = this.lowerView(pending[i]!, view.dirs);
    return view;
  }

  private linkOf(entry: Entry, node: PathNode): Buffer {
    if (entry.layer === 0) return readlinkSync(entry.host, { encoding: 'buffer' });
    const view = node.lower!;
    return (view.link ??= readlinkSync(entry.host, { encoding: 'buffer' }));
  }

  private lowerStat(li: number, rel: string): Stats | null {
    const k = `${li}:${rel}`;
    let st = this.lowerStats.get(k);
    if (st === undefined) this.lowerStats.set(k, (st = lstatOrNull(this.host(li, rel))));
    return st;
  }

  // --- the tree of what is known (see the top of the file) ---

  protected child(parent: PathNode, name: Buffer): PathNode {
    const k = name.toString('latin1');
    return parent.children?.get(k) ?? { parent, name: k, rel: childRel(parent, name, k) };
  }

  /** Remember `node` (a node made by `child` is only attached once something is known about it). */
  protected keep(node: PathNode): PathNode {
    (node.parent!.children ??= new Map()).set(node.name, node);
    return node;
  }

  /** Forget everything known at and below one child of `parent` (about to be replaced or gone). */
  protected forget(parent: PathNode, name: Buffer): void {
    parent.children?.delete(name.toString('latin1'));
  }
}

export function childRel(parent: PathNode, name: Buffer, k = name.toString('latin1')): string {
  return parent.rel === '' ? k : `${parent.rel}/${k}`;
}

function nothingAt(node: PathNode): At {
  return { node, upper: false, lowers: NO_LAYERS };
}

export function lstatOrNull(p: Buffer): Stats | null {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) ?? null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}
