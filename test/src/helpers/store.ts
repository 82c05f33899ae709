/** A fingerprint of a store directory: every path with its size, to prove a failed command changed nothing. */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function storeFingerprint(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, rel: string): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      const r = rel ? `${rel}/${n}` : n;
      if (r === 'locks' || r.startsWith('locks/')) continue; // lock files are created by any reader
      const st = await lstat(p);
      if (st.isDirectory()) {
        out.push(`${r}/`);
        await walk(p, r);
      } else out.push(`${r} ${st.size}${n === 'index.json' ? ` ${(await readFile(p, 'utf8')).length}` : ''}`);
    }
  }
  await walk(root, '');
  return out;
}
