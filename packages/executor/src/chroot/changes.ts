/**
 * The chroot mode's change computation: after the command ran in a private copy of the
 * lower directories (snapshot.ts), write what it changed into the overlay upper dir in
 * overlay form (overlay-form.ts), as overlayfs would have left it:
 *
 * - a new or changed entry is moved there (a rename, so contents are not copied again;
 *   a copy only where the two are on different filesystems);
 * - a deleted name becomes a whiteout (in the store's form, `whiteouts`); a directory that was removed and made again
 *   (another inode) comes whole and opaque, hiding what the lower layers had in it;
 * - a directory is written when something below it changed or its own metadata did.
 *
 * An entry is unchanged when its inode, link count and ctime are those recorded right
 * after the copy (nothing can change an entry without moving its ctime), else when type,
 * mode, owner, size, mtime, device number, link target, extended attributes and (for a
 * file) content all equal the lower layers'. A changed link count counts as a change,
 * so a file the command hardlinked comes up with all its names, linked.
 *
 * `ignore` names what the run itself put into the root and is never part of the result
 * (/etc/hosts, the /dev nodes, copies of read-only binds), and the directories it had to
 * create for them, which appear only when the command put something else into them.
 * Symlinks are never followed: every path is walked by name under the root.
 */
import type { BigIntStats } from 'node:fs';
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, renameSync } from 'node:fs';
import { copyEntry, type Baseline } from './snapshot.js';
import { contentXattrs, copyMeta, copyTimes } from './meta.js';
import { child, makeWhiteout, markOpaque, mergedChildren, type MergedEntry, type WhiteoutForm } from './overlay-form.js';

export interface Ignored {
  /** Paths relative to the root (latin1, no leading slash) that are the run's own. */
  paths: ReadonlySet<string>;
  /** Directories the run created to hold them (not in the lower layers). */
  created: ReadonlySet<string>;
}

const S_IFMT = 0o170000n;

export function writeChanges(root: string, lowerdirs: readonly string[], upper: string, baseline: Baseline, ignore: Ignored, whiteouts: WhiteoutForm = 'device'): void {
  const holdsIgnored = (rel: string) => {
    const prefix = `${rel}/`;
    for (const p of [...ignore.paths, ...ignore.created]) if (p.startsWith(prefix)) return true;
    return false;
  };
  const links = new Map<string, Buffer>();

  /** Move (or, across filesystems, copy) a whole entry into the upper dir. */
  const bring = (from: Buffer, st: BigIntStats, to: Buffer) => {
    try {
      renameSync(from, to);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    }
    copyTree(from, st, to, links);
  };

  const walk = (rootDir: Buffer, lowers: readonly Buffer[], upperDir: Buffer, rel: string, ensure: () => void): void => {
    const lower = lowers.length > 0 ? mergedChildren(lowers) : new Map<string, MergedEntry>();
    const names = readdirSync(rootDir, { encoding: 'buffer' });
    const present = new Set<string>();
    for (const name of names) {
      const key = name.toString('latin1');
      present.add(key);
      const r = rel ? `${rel}/${key}` : key;
      if (ignore.paths.has(r)) continue;
      const from = child(rootDir, name);
      const to = child(upperDir, name);
      const st = lstatSync(from, { bigint: true });
      const low = lower.get(key);
      if (ignore.created.has(r) && st.isDirectory() && !low) {
        sub(from, st, [], to, r, ensure, false, false);
        continue;
      }
      const sameType = low !== undefined && (low.st.mode & S_IFMT) === (st.mode & S_IFMT);
      if (st.isDirectory() && sameType) {
        const was = baseline.get(r);
        const replaced = was === undefined || was.ino !== st.ino || was.birthtimeNs !== st.birthtimeNs;
        if (replaced) sub(from, st, [], to, r, ensure, true, true);
        else sub(from, st, low.dirs, to, r, ensure, !sameDirMeta(from, st, low), false);
        continue;
      }
      if (sameType && unchanged(from, st, low, baseline.get(r))) continue;
      if (st.isSocket()) continue;
      ensure();
      if (st.isDirectory() && holdsIgnored(r)) sub(from, st, [], to, r, () => {}, true, false);
      else bring(from, st, to);
    }
    for (const [key] of lower) {
      const r = rel ? `${rel}/${key}` : key;
      if (present.has(key) || ignore.paths.has(r)) continue;
      ensure();
      makeWhiteout(child(upperDir, Buffer.from(key, 'latin1')), whiteouts);
    }
  };

  /**
   * A directory of the root: written to the upper dir when `changed` or when something
   * below is; `opaque` when it replaces a directory of the lower layers.
   */
  const sub = (from: Buffer, st: BigIntStats, lowers: readonly Buffer[], to: Buffer, rel: string, ensureParent: () => void, changed: boolean, opaque: boolean) => {
    let made = false;
    const ensure = () => {
      if (made) return;
      ensureParent();
      mkdirSync(to, { mode: 0o700 });
      copyMeta(from, to, st, { times: false });
      made = true;
    };
    if (changed) ensure();
    walk(from, lowers, to, rel, ensure);
    if (made) {
      if (opaque) markOpaque(to);
      copyTimes(to, st);
    }
  };

  const lowerRoots = lowerdirs.map((d) => Buffer.from(d));
  walk(Buffer.from(root), lowerRoots, Buffer.from(upper), '', () => {});
}

function sameDirMeta(path: Buffer, st: BigIntStats, low: MergedEntry): boolean {
  return st.mode === low.st.mode && st.uid === low.st.uid && st.gid === low.st.gid && st.mtimeNs === low.st.mtimeNs && sameXattrs(path, low.host);
}

function sameXattrs(a: Buffer, b: Buffer): boolean {
  const x = contentXattrs(a);
  const y = contentXattrs(b);
  return x.length === y.length && x.every(([n, v], i) => n === y[i]![0] && v.equals(y[i]![1]));
}

function unchanged(path: Buffer, st: BigIntStats, low: MergedEntry, base: { ino: bigint; nlink: bigint; ctimeNs: bigint } | undefined): boolean {
  if (base && base.ino === st.ino && base.ctimeNs === st.ctimeNs && base.nlink === st.nlink) return true;
  if (base && base.ino === st.ino && base.nlink !== st.nlink) return false;
  const l = low.st;
  if (st.mode !== l.mode || st.uid !== l.uid || st.gid !== l.gid || st.size !== l.size || st.mtimeNs !== l.mtimeNs || st.rdev !== l.rdev) return false;
  if (st.isSymbolicLink() && !readlinkSync(path, { encoding: 'buffer' }).equals(readlinkSync(low.host, { encoding: 'buffer' }))) return false;
  if (!sameXattrs(path, low.host)) return false;
  return !st.isFile() || sameContent(path, low.host);
}

function sameContent(a: Buffer, b: Buffer): boolean {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const ba = Buffer.allocUnsafe(1 << 16);
    const bb = Buffer.allocUnsafe(1 << 16);
    for (;;) {
      const na = readSync(fa, ba, 0, ba.length, null);
      const nb = readSync(fb, bb, 0, bb.length, null);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/** A whole tree copied (the fallback of a rename across filesystems). */
function copyTree(from: Buffer, st: BigIntStats, to: Buffer, links: Map<string, Buffer>): void {
  if (!copyEntry(from, st, to, links) || !st.isDirectory()) return;
  for (const name of readdirSync(from, { encoding: 'buffer' })) {
    const f = child(from, name);
    copyTree(f, lstatSync(f, { bigint: true }), child(to, name), links);
  }
  copyTimes(to, st);
}
