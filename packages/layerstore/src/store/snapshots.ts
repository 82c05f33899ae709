/**
 * Snapshots: unpacked layers in overlay form (whiteouts as 0:0 char devices, opaque
 * directories marked with `trusted.overlay.opaque=y`), usable as overlay lowerdirs.
 *
 * States:
 *   prepared   snapshots/.new-<pid>-<rand>/   being filled; invisible to readers
 *   committed  snapshots/<chainid hex>/       complete, never modified again
 * `prepare()` gives a fresh directory; `commit(chainId)` renames it into place (if
 * another process committed the same chain id first, ours is discarded: same content).
 * A crash leaves only `.new-*` directories, which `Store.recover()` removes once their
 * pid is gone.
 *
 * Example:
 *   const snap = await snapshots.prepare();
 *   await unpackLayer(stream, snap.path);          // or: an overlay upper dir is moved here
 *   const dir = await snap.commit(chainId);         // -> snapshots/<hex>
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { digestHex, isDigest, type Digest } from '../digest.js';
import { ioError } from '../errors.js';
import { fsyncDir, tempName } from './fsutil.js';

export interface PreparedSnapshot {
  readonly path: string;
  commit(chainId: Digest): Promise<string>;
  abort(): Promise<void>;
}

/**
 * The snapshot store interface (the lifecycle above). Snapshots are directories by
 * nature (overlay lowerdirs), so there is no in-memory implementation; the filesystem
 * one runs testing/snapshot-suite.ts.
 */
export interface SnapshotStore {
  /** Where a committed snapshot is (whether or not it exists). */
  path(chainId: Digest): string;
  has(chainId: Digest): Promise<boolean>;
  /** A fresh, empty prepared snapshot. */
  prepare(): Promise<PreparedSnapshot>;
  /** A prepared snapshot of a directory already filled, on the store's filesystem. */
  adopt(path: string): PreparedSnapshot;
  /** Remove a committed snapshot; removing an absent one is no error. */
  remove(chainId: Digest): Promise<void>;
  list(): Promise<Digest[]>;
}

export class Snapshots implements SnapshotStore {
  readonly dir: string;

  /** Called with every snapshot this process commits. */
  readonly onCommit = new Set<(chainId: Digest) => void>();
  /** Called before a snapshot is relied on or committed (see lease.ts). */
  claim: (chainId: Digest) => Promise<void> = async () => {};

  constructor(root: string) {
    this.dir = join(root, 'snapshots');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  path(chainId: Digest): string {
    return join(this.dir, digestHex(chainId));
  }

  async has(chainId: Digest): Promise<boolean> {
    await this.claim(chainId);
    try {
      return (await stat(this.path(chainId))).isDirectory();
    } catch {
      return false;
    }
  }

  async prepare(): Promise<PreparedSnapshot> {
    const path = join(this.dir, tempName('.new-'));
    await mkdir(path, { mode: 0o755 }).catch((err) => {
      throw ioError(`create snapshot directory in ${this.dir}`, err);
    });
    return this.adopt(path);
  }

  /**
   * Take over a directory that is already filled (e.g. an overlay upper dir). It must
   * be on the same filesystem as the store; it is renamed into place on commit.
   */
  adopt(path: string): PreparedSnapshot {
    let done = false;
    return {
      path,
      commit: async (chainId: Digest) => {
        const final = this.path(chainId);
        try {
          await this.claim(chainId);
          await rename(path, final);
          done = true;
          for (const fn of this.onCommit) fn(chainId);
          await fsyncDir(this.dir);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // Until the rename or the discard, abort() must still be able to clean up.
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw ioError(`commit snapshot ${chainId}`, err);
          done = true;
          await rm(path, { recursive: true, force: true });
        }
        return final;
      },
      abort: async () => {
        if (done) return;
        done = true;
        await rm(path, { recursive: true, force: true });
      },
    };
  }

  async remove(chainId: Digest): Promise<void> {
    // Rename first so a half-deleted snapshot is never visible under its final name.
    const doomed = join(this.dir, tempName('.del-'));
    try {
      await rename(this.path(chainId), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw ioError(`remove snapshot ${chainId}`, err);
    }
    await rm(doomed, { recursive: true, force: true });
  }

  async list(): Promise<Digest[]> {
    const out: Digest[] = [];
    for (const name of await readdir(this.dir)) {
      const d = `sha256:${name}`;
      if (isDigest(d)) out.push(d);
    }
    return out;
  }
}

/** OCI chain ids: ChainID(L0) = DiffID(L0), ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : (`sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}` as Digest));
  }
  return out;
}
