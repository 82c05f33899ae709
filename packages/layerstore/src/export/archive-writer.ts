/**
 * Write a tar archive to a file atomically: entries go to `<dest>.tmp-<pid>-<rand>`,
 * which is fsynced and renamed onto `dest` only when complete.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ioError, LayerstoreError } from '../errors.js';
import { tempName } from '../store/fsutil.js';
import { writeTar, type TarHeader, type TarWriteEntry } from '../tar/index.js';

export interface ArchiveFile {
  name: string;
  body: Buffer | (() => Promise<Readable>);
  size: number;
  dir?: boolean;
}

export async function writeArchive(dest: string, files: ArchiveFile[], mtime = 0): Promise<void> {
  const tmp = join(dirname(dest), tempName(`.${basename(dest)}.tmp-`));
  async function* entries(): AsyncGenerator<TarWriteEntry> {
    for (const f of files) {
      const header: TarHeader = {
        name: Buffer.from(f.dir ? `${f.name}/` : f.name),
        type: f.dir ? 'directory' : 'file',
        mode: f.dir ? 0o755 : 0o644,
        uid: 0,
        gid: 0,
        size: f.dir ? 0 : f.size,
        mtime,
      };
      if (f.dir) yield { header };
      else yield { header, body: Buffer.isBuffer(f.body) ? f.body : await f.body() };
    }
  }
  const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
  try {
    await pipeline(Readable.from(writeTar(entries()), { objectMode: false }), out);
    const fh = await open(tmp, 'r');
    await fh.sync();
    await fh.close();
    await rename(tmp, dest);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    if (err instanceof LayerstoreError) throw err;
    throw ioError(`write ${dest}`, err);
  }
}
