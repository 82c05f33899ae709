/**
 * Images made by buildah (a real containers/image writer), in a private store: `--root`,
 * `--runroot` in a temp dir and the vfs driver, so buildah's default store is never touched.
 */
import { join } from 'node:path';
import { run } from './cli.js';

export interface Buildah {
  /** Run buildah with this store. */
  (args: string[]): Promise<string>;
  dir: string;
}

export function buildah(dir: string): Buildah {
  const fn = (async (args: string[]) => {
    const res = await run('buildah', ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', 'vfs', ...args]);
    return res.stdout.trim();
  }) as Buildah;
  fn.dir = dir;
  return fn;
}

/** A scratch image holding the host's static busybox, committed as `name`, whose CMD echoes `message`. */
export async function busyboxImage(b: Buildah, name: string, message: string): Promise<void> {
  const c = await b(['from', 'scratch']);
  try {
    await b(['copy', c, '/bin/busybox', '/bin/busybox']);
    await b(['config', '--cmd', JSON.stringify(['/bin/busybox', 'echo', message]), c]);
    await b(['commit', '-q', c, name]);
  } finally {
    await b(['rm', c]);
  }
}
