/**
 * A directory tree as stable text, one line per entry, for comparing root filesystems
 * produced by different builders: path, type, mode, owner, size, and content digest or
 * link target. Times are left out (builders stamp created directories differently);
 * hardlinked files are grouped by a per-tree number.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface TreeOptions {
  /** Paths (relative, no leading slash) to leave out, with everything below them. */
  skip?: string[];
}

export async function treeOf(root: string, opts: TreeOptions = {}): Promise<string> {
  const lines: string[] = [];
  const inodes = new Map<string, number>();
  const skip = new Set(opts.skip ?? []);
  async function walk(rel: Buffer[]): Promise<void> {
    const dir = join(root, ...rel.map((r) => r.toString('latin1')));
    const names = (await readdir(Buffer.from(dir, 'latin1'), { encoding: 'buffer' })).sort(Buffer.compare);
    for (const name of names) {
      const path = [...rel, name];
      const shown = path.map((p) => escape(p)).join('/');
      if (skip.has(shown)) continue;
      const host = Buffer.from(join(dir, name.toString('latin1')), 'latin1');
      const st = await lstat(host);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      const owner = `${st.uid}:${st.gid}`;
      let type: string;
      let detail = '';
      if (st.isDirectory()) type = 'dir';
      else if (st.isSymbolicLink()) {
        type = 'symlink';
        detail = `-> ${escape(await readlink(host, { encoding: 'buffer' }))}`;
      } else if (st.isFile()) {
        type = 'file';
        detail = `${st.size} ${createHash('sha256').update(await readFile(host)).digest('hex').slice(0, 16)}`;
        if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          if (!inodes.has(key)) inodes.set(key, inodes.size + 1);
          detail += ` hardlink#${inodes.get(key)}`;
        }
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        type = st.isCharacterDevice() ? 'char' : 'block';
        detail = `${Math.floor(st.rdev / 256)}:${st.rdev % 256}`;
      } else if (st.isFIFO()) type = 'fifo';
      else type = 'socket';
      lines.push(`${shown}\t${type}\t${mode}\t${owner}${detail ? `\t${detail}` : ''}`);
      if (st.isDirectory()) await walk(path);
    }
  }
  await walk([]);
  return `${lines.join('\n')}\n`;
}

function escape(b: Buffer): string {
  let s = '';
  for (const byte of b) s += byte >= 0x21 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return s;
}
