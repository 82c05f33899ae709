/**
 * A writable root filesystem made of one upper directory over read-only lower
 * directories (topmost first), with overlayfs's rules: a whiteout in a higher layer
 * (a 0:0 character device, or in the `xattr` form a marked empty file: whiteout.ts)
 * hides the name below it, a directory marked
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
 * Paths are walked once, component by component, and what is known is remembered
 * (overlay-view.ts): lower layers for the RootFs's lifetime, the upper dir's
 * directories once this RootFs has written to it. Whatever replaces a path (a new
 * entry, a removal, an opaque directory's cleanup, a copy-up) forgets what was known at
 * and below it. Anything else that changes the upper dir after this RootFs wrote to it
 * (a RUN) needs a new RootFs.
 *
 * Filesystem calls are synchronous: a RootFs serves one task at a time, and its many
 * tiny metadata calls cost microseconds this way instead of a thread-pool round trip.
 *
 *   const root = new RootFs({ upper: '/store/tmp/up', lowers: [snap2, snap1] });
 *   const dest = await root.resolve('/usr/local/bin', { followFinal: true });
 *   const dir = await root.ensureDir(dest);   // copied up from the lowers as needed
 */
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { LayerstoreError, TarError } from '../errors.js';
import { childRel, lstatOrNull, NO_LAYERS, OverlayView, type At, type Entry, type PathNode } from './overlay-view.js';
import { hostPath, show, type Components } from './paths.js';
import { copyMetaSync, setMeta } from './meta.js';
import { makeWhiteout, markOpaque, type OverlayForm } from './whiteout.js';

export { isOverlayXattr, type Entry } from './overlay-view.js';

export interface RootFsOptions {
  upper: string;
  lowers?: readonly string[];
  /** How removals are recorded: overlay whiteouts (default when there are lowers) or plain deletion. */
  whiteouts?: 'overlay' | 'delete';
  /** The store's overlay form (whiteout.ts): the opaque xattr and the whiteouts to read and write. Default DEVICE_FORM. */
  overlayForm?: OverlayForm;
}

export class RootFs extends OverlayView {
  readonly whiteoutMode: 'overlay' | 'delete';

  constructor(opts: RootFsOptions) {
    super(opts.upper, opts.lowers ?? [], opts.overlayForm);
    this.whiteoutMode = opts.whiteouts ?? (this.lowers.length > 0 ? 'overlay' : 'delete');
  }

  upperPath(cs: Components): Buffer {
    return hostPath(this.upper, cs);
  }

  /**
   * Make `cs` a real directory in the upper dir, copying up ancestors that exist below
   * (same mode, owner, times and xattrs) and creating missing ones with `create`'s mode
   * and owner (default 0755 root:root). Fails when a non-directory is in the way.
   */
  async ensureDir(cs: Components, create: { mode?: number; uid?: number; gid?: number } = {}): Promise<Buffer> {
    this.ensureDirAt(cs, create);
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
    const parent = this.ensureDirAt(cs.slice(0, -1));
    const name = cs[cs.length - 1]!;
    const host = this.host(0, childRel(parent.node, name));
    const parentFresh = parent.node.fresh === true;
    const e = parentFresh ? lstatEntry(host) : this.step(parent, name, true).entry;
    if (e && mergeDir && e.stat.isDirectory()) {
      if (e.layer !== 0) this.ensureDirAt(cs);
      return { host, existingDir: true };
    }
    if (e) {
      rmSync(host, { recursive: true, force: true });
      if (mergeDir && e.layer === 0 && this.whiteoutMode === 'overlay' && this.lowers.length > 0 && this.lowerOf(this.child(parent.node, name)).entry !== undefined) {
        // What we remove here hid a lower entry: the directory replacing it must hide it
        // too, so it is made over a whiteout (opaque), as if the lower entry was removed.
        this.forget(parent.node, name);
        makeWhiteout(host, this.overlayForm.whiteout);
        this.ensureDirAt(cs);
        return { host, existingDir: true };
      }
    } else if (!parentFresh && lstatOrNull(host) !== null) {
      // A whiteout of a lower entry: a directory replaces it as an opaque one.
      if (mergeDir) {
        this.ensureDirAt(cs);
        return { host, existingDir: true };
      }
      rmSync(host, { force: true });
    }
    // The caller creates something new here: nothing known about the old path holds.
    this.forget(parent.node, name);
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
    const parent = this.ensureDirAt(cs.slice(0, -1));
    const name = cs[cs.length - 1]!;
    const node = this.child(parent.node, name);
    const host = this.host(0, node.rel);
    rmSync(host, { recursive: true, force: true });
    const whiteout = this.whiteoutMode === 'overlay' && (opts.keepWhiteout ?? true) && this.lowers.length > 0 && this.lowerOf(node).entry !== undefined;
    this.forget(parent.node, name);
    if (whiteout) makeWhiteout(host, this.overlayForm.whiteout);
  }

  /** Mark an upper directory opaque: nothing below it shows through. */
  async makeOpaque(cs: Components): Promise<void> {
    const { node } = this.ensureDirAt(cs);
    if (this.whiteoutMode === 'overlay') {
      markOpaque(this.host(0, node.rel), this.overlayForm.opaque);
      node.opaque = true;
    }
    node.fresh = true;
  }

  /**
   * Delete what is below a directory in the upper dir, except entries `keep` accepts;
   * the children of a kept directory face the same test (an opaque directory hides
   * lower entries at every depth, also under directories the new layer touched).
   */
  async clearChildren(cs: Components, keep: (child: Components) => boolean): Promise<void> {
    const { node } = this.ensureDirAt(cs);
    for (const name of readdirSync(this.host(0, node.rel), { encoding: 'buffer' })) {
      const child = [...cs, name];
      const host = this.host(0, childRel(node, name));
      if (!keep(child)) {
        rmSync(host, { recursive: true, force: true });
        this.forget(node, name);
      } else if (lstatSync(host).isDirectory()) {
        await this.clearChildren(child, keep);
      }
    }
  }

  /** Copy a lower-layer file into the upper dir (for a hardlink to it), returning the upper path. */
  async copyUp(cs: Components): Promise<Buffer> {
    const e = this.entryAt(cs);
    if (!e) throw new LayerstoreError('TSBUILD_LAYER_UNSAFE', `${show(cs)}: no such file`);
    if (e.layer === 0) return e.host;
    const parent = this.ensureDirAt(cs.slice(0, -1));
    const name = cs[cs.length - 1]!;
    const host = this.host(0, childRel(parent.node, name));
    if (e.stat.isSymbolicLink()) symlinkSync(readlinkSync(e.host, { encoding: 'buffer' }), host);
    else if (e.stat.isFile()) copyFileSync(e.host, host);
    else throw new LayerstoreError('TSBUILD_UNSUPPORTED', `${show(cs)}: cannot copy up this file type`);
    copyMetaSync(e.host, host, e.stat);
    this.forget(parent.node, name);
    return host;
  }

  private ensureDirAt(cs: Components, create: { mode?: number; uid?: number; gid?: number } = {}): At {
    this.owned = true;
    let at = this.rootAt();
    for (let i = 0; i < cs.length; i++) {
      const { entry, next } = this.step(at, cs[i]!, false);
      if (!next.upper) {
        if (entry && !entry.stat.isDirectory()) {
          throw new LayerstoreError('TSBUILD_LAYER_UNSAFE', `${show(cs.slice(0, i + 1))}: not a directory`);
        }
        this.makeUpperDir(at, next.node, entry, create);
        next.upper = true;
        next.lowers = at.lowers.length > 0 && !this.cutsLowers(next.node) ? this.lowerView(next.node, at.lowers).dirs : NO_LAYERS;
      }
      at = next;
    }
    return at;
  }

  /** Create the upper directory at `node`: a copy-up of the lower directory `e`, or a new one. */
  private makeUpperDir(parent: At, node: PathNode, e: Entry | undefined, create: { mode?: number; uid?: number; gid?: number }): void {
    const host = this.host(0, node.rel);
    // Anything left in the upper at this name (a whiteout) is replaced; a directory
    // over a whiteout is opaque, so what the whiteout hid stays hidden.
    const overWhiteout = !e && this.whiteoutMode === 'overlay' && lstatOrNull(host) !== null;
    rmSync(host, { force: true, recursive: true });
    mkdirSync(host);
    this.keep(node);
    node.upperDir = true;
    node.opaque = false;
    node.fresh = false;
    if (e) {
      copyMetaSync(e.host, host, e.stat);
      return;
    }
    setMeta(host, { uid: create.uid ?? 0, gid: create.gid ?? 0, mode: create.mode ?? 0o755, xattrs: [], times: undefined });
    if (overWhiteout) {
      markOpaque(host, this.overlayForm.opaque);
      node.opaque = true;
      node.fresh = true;
    } else if (parent.node.fresh || this.lowers.length === 0 || this.lowerOf(node).entry === undefined) {
      node.fresh = true;
    }
  }
}

function lstatEntry(host: Buffer): Entry | undefined {
  const st = lstatOrNull(host);
  return st ? { layer: 0, host, stat: st } : undefined;
}
