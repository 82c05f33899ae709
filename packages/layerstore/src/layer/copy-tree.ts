/**
 * Copy entries from a CopySource (the builder's COPY sources) into a RootFs (the new layer's upper dir).
 * Like BuildKit: file contents, modes and mtimes are kept; owners are root (context) or
 * kept (stages, images) unless --chown; --chmod applies to every copied entry;
 * symlinks inside copied directories are copied as symlinks; hardlinked files stay
 * hardlinked; a directory over a directory merges (and takes the source's metadata).
 * Filesystem calls are synchronous (one copy at a time; they cost microseconds this
 * way), file contents go kernel to kernel (copy_file_range, or a reflink); every
 * YIELD_MS the copy lets the event loop run, so an abort or a progress redraw is not
 * held up until the end of a large tree.
 */
import type { Stats } from 'node:fs';
import { constants as fsc, copyFileSync, linkSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { makedev, majorOf, minorOf, mknod } from '../sys/libc.js';
import { copyMetaSync } from './meta.js';
import type { Components } from './paths.js';
import type { RootFs } from './rootfs.js';

const YIELD_MS = 20;

/** What a copy reads: a RootFs (read through, never written) plus a visibility rule. */
export interface CopySource {
  readonly root: RootFs;
  /** Keep the source's owners (stages, images), or make them root (the build context)? */
  readonly keepOwners: boolean;
  /** Is this path excluded (e.g. by .dockerignore)? */
  hidden(cs: Components): boolean;
  /** For a hidden directory: can nothing below it be visible? */
  canSkip(cs: Components): boolean;
}

export interface CopyOptions {
  owner?: { uid: number; gid: number };
  mode?: number;
  /** Called with each copied path (for progress). */
  onEntry?: () => void;
  signal?: AbortSignal;
}

export class Copier {
  /** Source inode -> upper path of its first copy (hardlinks stay hardlinks). */
  private readonly links = new Map<string, Buffer>();
  private lastYield = performance.now();

  constructor(private readonly src: CopySource, private readonly dst: RootFs, private readonly opts: CopyOptions) {}

  /** Copy the entry at `from` (canonical in the source) to `to` (canonical in the destination). */
  async copyEntry(from: Components, to: Components, st: Stats, host: Buffer): Promise<void> {
    if (performance.now() - this.lastYield > YIELD_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      this.lastYield = performance.now();
    }
    this.opts.signal?.throwIfAborted();
    this.opts.onEntry?.();
    if (st.isDirectory()) {
      const { host: dir, existingDir } = await this.dst.prepareCreate(to, true);
      if (!existingDir) mkdirSync(dir);
      await this.copyChildren(from, to);
      this.applyMeta(host, dir, st);
      return;
    }
    const { host: target } = await this.dst.prepareCreate(to, false);
    if (st.isFile()) {
      const id = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.links.get(id) : undefined;
      if (first) {
        linkSync(first, target);
        return;
      }
      copyFileSync(host, target, fsc.COPYFILE_FICLONE);
      if (st.nlink > 1) this.links.set(id, target);
    } else if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(host, { encoding: 'buffer' }), target);
    } else if (st.isSocket()) {
      writeFileSync(target, '');
    } else if (st.isFIFO()) {
      mknod(target, 0o010000 | 0o600);
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      mknod(target, (st.isCharacterDevice() ? 0o020000 : 0o060000) | 0o600, makedev(majorOf(st.rdev), minorOf(st.rdev)));
    }
    this.applyMeta(host, target, st);
  }

  /**
   * Copy the visible children of a source directory into the destination directory
   * `to`. Below an excluded directory (`hidden`) with re-included descendants, `to` is
   * created only when something in it is copied.
   */
  async copyChildren(from: Components, to: Components, hidden = false): Promise<void> {
    const root = this.src.root;
    for (const name of await root.readdir(from)) {
      const child = [...from, name];
      const e = await root.lookup(child);
      if (!e) continue;
      if (this.src.hidden(child)) {
        if (e.stat.isDirectory() && !this.src.canSkip(child)) await this.copyChildren(child, [...to, name], true);
        continue;
      }
      if (hidden) await this.dst.ensureDir(to, this.createdDirOwner());
      await this.copyEntry(child, [...to, name], e.stat, e.host);
    }
  }

  /** Owner and mode for directories created to hold copied entries. */
  createdDirOwner(): { mode: number; uid: number; gid: number } {
    return { mode: 0o755, uid: this.opts.owner?.uid ?? 0, gid: this.opts.owner?.gid ?? 0 };
  }

  private applyMeta(from: Buffer, to: Buffer, st: Stats): void {
    const owner = this.opts.owner ?? (this.src.keepOwners ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 });
    copyMetaSync(from, to, st, { owner, ...(this.opts.mode !== undefined ? { mode: this.opts.mode } : {}), skipXattrs: ['security.selinux'] });
  }
}
