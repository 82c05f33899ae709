/**
 * Content checksums of COPY/ADD sources, for cache keys: a blake3 digest over the
 * entries the copy would see (paths, types, modes, sizes, link targets, file contents;
 * .dockerignore applied), not over times, like BuildKit's content hash. File contents
 * are re-read only when a file's size, mtime, ctime or inode changed since the last
 * build: a stat cache per context directory is kept in the store (cache/context/).
 */
import type { Stats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { fileChunks, type Components, type RecordStore, type Store } from '@tsbuild/layerstore';
import type { SourceTree } from './source-tree.js';

interface StatEntry {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: number;
  hash: string;
}

export class ContentChecksums {
  private statCache: Map<string, StatEntry> | undefined;
  private dirty = false;
  private readonly recordKey: string;

  /** `cache/context/<hash of the directory>`: part of the build cache (`prune --all` empties it). */
  private readonly records: RecordStore<Record<string, StatEntry>>;

  constructor(store: Store, contextDir: string) {
    this.recordKey = createHash('sha256').update(contextDir).digest('hex');
    this.records = store.records('context', { buildCache: true });
  }

  /** Digest of the entry at `cs` in `tree` (a file, or a directory and everything visible below it). */
  async checksum(tree: SourceTree, cs: Components): Promise<string> {
    const h = new Blake3Hasher();
    const e = await tree.root.lookup(cs);
    if (!e) return 'missing';
    await this.visit(tree, cs, e.stat, e.host, '', h, false);
    return h.digest('hex');
  }

  /** Persist the stat cache (call once at the end of a build). */
  async save(): Promise<void> {
    if (!this.dirty || !this.statCache) return;
    await this.records.put(this.recordKey, Object.fromEntries(this.statCache));
    this.dirty = false;
  }

  private async visit(tree: SourceTree, cs: Components, st: Stats, host: Buffer, rel: string, h: Blake3Hasher, hiddenParent: boolean): Promise<boolean> {
    if (st.isDirectory()) {
      let any = !hiddenParent;
      const lines: string[] = [];
      const mark = `${rel}/\0dir\0${(st.mode & 0o7777).toString(8)}\0${st.uid}:${st.gid}\n`;
      for (const name of await tree.root.readdir(cs)) {
        const child = [...cs, name];
        const ce = await tree.root.lookup(child);
        if (!ce) continue;
        const childRel = `${rel}/${name.toString('latin1')}`;
        const hidden = tree.hidden(child);
        if (hidden && (!ce.stat.isDirectory() || tree.canSkip(child))) continue;
        // Hash into a buffer first: a hidden directory counts only if something below it is visible.
        const sub = new Blake3Hasher();
        if (await this.visit(tree, child, ce.stat, ce.host, childRel, sub, hidden)) {
          lines.push(sub.digest('hex'));
          any = true;
        }
      }
      if (!any) return false;
      h.update(Buffer.from(mark));
      for (const l of lines) h.update(Buffer.from(`${l}\n`));
      return true;
    }
    if (hiddenParent) return false;
    const head = `${rel}\0${kind(st)}\0${(st.mode & 0o7777).toString(8)}\0${st.uid}:${st.gid}\0${st.size}\0`;
    let tail = '';
    if (st.isSymbolicLink()) tail = (await readlink(host)).toString();
    else if (st.isFile()) tail = await this.fileHash(host, st);
    else if (st.isCharacterDevice() || st.isBlockDevice()) tail = String(st.rdev);
    h.update(Buffer.from(`${head}${tail}\n`));
    return true;
  }

  private async fileHash(host: Buffer, st: Stats): Promise<string> {
    const cache = await this.cache();
    const k = host.toString('latin1');
    const stamp = { size: st.size, mtimeNs: String(st.mtimeMs), ctimeNs: String(st.ctimeMs), ino: st.ino };
    const hit = cache.get(k);
    if (hit && hit.size === stamp.size && hit.mtimeNs === stamp.mtimeNs && hit.ctimeNs === stamp.ctimeNs && hit.ino === stamp.ino) return hit.hash;
    const fh = new Blake3Hasher();
    for await (const chunk of fileChunks(host, st.size)) fh.update(chunk);
    const hash = fh.digest('hex');
    cache.set(k, { ...stamp, hash });
    this.dirty = true;
    return hash;
  }

  private async cache(): Promise<Map<string, StatEntry>> {
    if (!this.statCache) {
      const rec = await this.records.get(this.recordKey);
      this.statCache = new Map(Object.entries(rec ?? {}));
    }
    return this.statCache;
  }
}

function kind(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  return 'other';
}
