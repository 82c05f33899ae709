import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

/** fsync a directory so a rename or create inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A unique name for a temporary file or directory (pid for crash cleanup, random for uniqueness). */
export function tempName(prefix: string): string {
  return `${prefix}${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Write a small file atomically: temp file in the same directory, fsync, rename, fsync dir. */
export async function writeFileAtomic(path: string, data: Buffer | string, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, tempName('.tmp-'));
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}

/** Is this pid alive? Used to tell a crashed writer's leftovers from a live one's. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const CHUNK = 1 << 20;

/**
 * The first `size` bytes of a file, in fresh buffers of at most 1 MiB, each no larger
 * than what is left. Unlike `createReadStream`, which allocates its whole highWaterMark
 * for every read, a small file costs a buffer of its own size: 20,000 small files no
 * longer mean 20 GiB of short-lived buffers for the garbage collector. A file that
 * shrank under us ends early (the caller sees fewer bytes than it asked for).
 */
export async function* fileChunks(path: string | Buffer, size: number): AsyncGenerator<Buffer> {
  if (size === 0) return;
  const fh = await open(path, 'r');
  try {
    for (let done = 0; done < size; ) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - done));
      const { bytesRead } = await fh.read(buf, 0, buf.length, done);
      if (bytesRead === 0) return;
      done += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}
