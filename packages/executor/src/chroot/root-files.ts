/**
 * What a run puts into its private root besides the image, none of it ever part of the
 * result (changes.ts skips these paths): /etc/hosts, /etc/resolv.conf, /etc/hostname,
 * the device nodes of the OCI defaults (null, zero, full, random, urandom, tty; no
 * ptmx or pts, which need a devpts mount), an empty /dev/shm, and the request's mounts as
 * far as a chroot can have them: a read-only bind is a copy of its source, a tmpfs an
 * empty directory whose contents are dropped. A writable bind cannot be had without a
 * mount and is refused.
 *
 * Every path is placed by walking the root one component at a time with lstat: an
 * existing file there (a symlink too, which is never followed) is replaced for the run;
 * a directory missing on the way is created and reported, so that it appears in the
 * result only when the command puts something of its own into it. The directories that
 * receive these files get their times back, so they do not look changed.
 */
import type { BigIntStats } from 'node:fs';
import { lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { ExecutorError } from '../errors.js';
import { mknodAt } from '../libc.js';
import type { MountSpec } from '../types.js';
import type { Ignored } from './changes.js';
import { copyTimes } from './meta.js';
import { copyEntry } from './snapshot.js';

const S_IFCHR = 0o020000;
const DEVICES: Array<[name: string, major: number, minor: number]> = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
];

export interface RootFiles {
  hosts: string;
  resolvConf: string;
  hostname: string;
}

function makedev(major: number, minor: number): bigint {
  return (BigInt(major & 0xfff) << 8n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n);
}

class Placer {
  readonly paths = new Set<string>();
  readonly created = new Set<string>();
  /** Directories whose times to restore: path -> their stat before. */
  private readonly touched = new Map<string, BigIntStats>();

  constructor(private readonly root: string) {}

  /** The host path for `rel` (no leading slash), its parents made real directories, anything at it removed. */
  place(rel: string): string {
    const parts = rel.split('/').filter(Boolean);
    let host = this.root;
    let r = '';
    for (const part of parts.slice(0, -1)) {
      host = `${host}/${part}`;
      r = r ? `${r}/${part}` : part;
      let st: BigIntStats | undefined;
      try {
        st = lstatSync(host, { bigint: true });
      } catch {
        mkdirSync(host, { mode: 0o755 });
        this.created.add(r);
        continue;
      }
      if (!st.isDirectory()) throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `cannot place /${rel} in the root: /${r} is not a directory`);
      if (!this.created.has(r) && !this.touched.has(host)) this.touched.set(host, st);
    }
    const target = `${host}/${parts[parts.length - 1]}`;
    if (host === this.root && !this.touched.has(host)) this.touched.set(host, lstatSync(host, { bigint: true }));
    rmSync(target, { recursive: true, force: true });
    this.paths.add(parts.join('/'));
    return target;
  }

  restoreTimes(): void {
    for (const [host, st] of this.touched) copyTimes(Buffer.from(host), st);
  }
}

export function placeRootFiles(root: string, files: RootFiles, mounts: readonly MountSpec[]): Ignored {
  const p = new Placer(root);
  writeFileSync(p.place('etc/hosts'), files.hosts, { mode: 0o644 });
  writeFileSync(p.place('etc/resolv.conf'), files.resolvConf, { mode: 0o644 });
  writeFileSync(p.place('etc/hostname'), files.hostname, { mode: 0o644 });
  for (const [name, major, minor] of DEVICES) {
    const at = p.place(`dev/${name}`);
    try {
      mknodAt(Buffer.from(at), S_IFCHR | 0o666, makedev(major, minor));
    } catch (err) {
      throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `cannot create /dev/${name} in the root (chroot isolation needs CAP_MKNOD): ${(err as Error).message}`, { cause: err });
    }
  }
  mkdirSync(p.place('dev/shm'), { mode: 0o1777 });
  for (const m of mounts) placeMount(p, m);
  p.restoreTimes();
  return { paths: p.paths, created: p.created };
}

function placeMount(p: Placer, m: MountSpec): void {
  const rel = m.destination.split('/').filter((c) => c && c !== '.').join('/');
  if (m.destination.split('/').includes('..') || rel === '') throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `mount destination ${JSON.stringify(m.destination)}: not a path below /`);
  const readonly = m.readonly || (m.options ?? []).includes('ro');
  if (m.type === 'tmpfs') {
    mkdirSync(p.place(rel), { mode: 0o1777 });
    return;
  }
  if (!readonly) {
    throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', `a writable bind mount of ${m.source ?? '?'} at ${m.destination} needs the sandbox: chroot isolation cannot mount (make it read-only, :ro, to get a copy)`);
  }
  if (m.source === undefined) throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `bind mount at ${m.destination} has no source`);
  copyHostTree(Buffer.from(m.source), Buffer.from(p.place(rel)));
}

/** A read-only bind as a copy of its source (followed if it is a symlink, as a bind is). */
function copyHostTree(from: Buffer, to: Buffer): void {
  const links = new Map<string, Buffer>();
  const walk = (f: Buffer, t: Buffer, follow: boolean) => {
    const st = follow ? statSync(f, { bigint: true }) : lstatSync(f, { bigint: true });
    if (!copyEntry(f, st, t, links) || !st.isDirectory()) return;
    for (const name of readdirSync(f, { encoding: 'buffer' })) walk(Buffer.concat([f, Buffer.from('/'), name]), Buffer.concat([t, Buffer.from('/'), name]), false);
    copyTimes(t, st);
  };
  walk(from, to, true);
}
