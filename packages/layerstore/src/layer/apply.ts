/**
 * Apply tar entries to a RootFs: layers (with OCI whiteouts) and ADD archives
 * (whiteout names kept as plain files).
 *
 * Rules (OCI image-spec layer.md; moby, containerd and umoci's extraction rules):
 * - names are bytes; a leading '/' is dropped; a '..' climbing above the root is rejected;
 * - every parent path is resolved inside the root, following symlinks (this layer's and
 *   lower layers') with chroot semantics; the final component is never followed;
 * - a directory entry over a directory merges; any other collision replaces;
 * - whiteouts, as whiteout.ts names them: `.wh.<name>` hides <name> of lower layers,
 *   `.wh..wh..opq` hides all lower children of its directory and applies first; neither
 *   touches entries of the same layer; `.wh.`, `.wh..`, `.wh...` are invalid; AUFS's
 *   other `.wh..wh.` names are skipped;
 * - hardlinks link the named entry itself (not a symlink's target), inside the root;
 * - owner is set before mode (chown clears setuid), times last; directory times after
 *   all entries; `trusted.overlay.*` from an archive is never applied.
 */
import { closeSync, linkSync, lutimesSync, mkdirSync, openSync, symlinkSync, writeSync, writevSync } from 'node:fs';
import { TarError, LayerstoreError } from '../errors.js';
import { mknod, makedev, S_IFBLK, S_IFCHR, S_IFIFO, SysError } from '../sys/libc.js';
import { inInitialUserNamespace } from '../sys/userns.js';
import type { TarEntry, TarHeader } from '../tar/index.js';
import { entryComponents, key, show, type Components } from './paths.js';
import { setMeta } from './meta.js';
import type { RootFs } from './rootfs.js';
import { isWhiteoutName, whiteoutMeaning } from './whiteout.js';

export interface ApplyOptions {
  /** Treat `.wh.` names as whiteouts (layers) rather than files (ADD archives). */
  whiteouts: boolean;
  /** Create device nodes (default: only as root of the initial user namespace, not rootless; skipped with a warning otherwise). */
  devices?: boolean;
  /** Extract below this canonical directory instead of the root. */
  at?: Components;
  /** Force ownership of everything extracted. */
  chown?: { uid: number; gid: number };
  onWarning?: (message: string) => void;
}

/** File bodies are gathered up to this size and written with one call; bigger ones go out in pieces of it. */
const WRITE_BATCH = 1 << 20;

/** Entries of this layer (a whiteout never hides them), and in delete mode the directories holding them. */
interface Created {
  entries: Set<string>;
  holders: Set<string> | undefined;
}

export async function applyTar(root: RootFs, entries: AsyncIterable<TarEntry>, opts: ApplyOptions): Promise<{ entries: number }> {
  const created: Created = { entries: new Set(), holders: root.whiteoutMode === 'delete' ? new Set() : undefined };
  const dirTimes: Array<{ cs: Components; mtime: number }> = [];
  const warn = opts.onWarning ?? (() => {});
  // Root of a user namespace (rootless) cannot make device nodes either, as in moby's archive code.
  const devices = opts.devices ?? (process.getuid?.() === 0 && inInitialUserNamespace());
  let count = 0;

  for await (const { header, body } of entries) {
    count++;
    try {
      const rel = entryComponents(header.name);
      const full = opts.at ? [...opts.at, ...rel] : rel;
      const base = full[full.length - 1];
      if (opts.whiteouts && base && isWhiteoutName(base)) {
        await drain(body, header);
        await applyWhiteout(root, full, base, created, header.name);
        continue;
      }
      if (rel.length === 0 && header.type !== 'directory') {
        const name = show(header.name);
        throw new TarError('TSBUILD_LAYER_UNSAFE', `invalid entry ${name}: refusing to change the type of the root directory`, name);
      }
      const target = rel.length === 0 ? full : [...(await root.resolve(full.slice(0, -1), { followFinal: true })), base!];
      switch (header.type) {
        case 'directory': {
          const { host, existingDir } = await root.prepareCreate(target, true);
          if (!existingDir) mkdirSync(host);
          setEntryMeta(host, header, opts, warn, false);
          dirTimes.push({ cs: target, mtime: header.mtime });
          await drain(body, header);
          break;
        }
        case 'file': {
          const { host } = await root.prepareCreate(target, false);
          await writeBody(host, body);
          setEntryMeta(host, header, opts, warn, true);
          break;
        }
        case 'symlink': {
          const { host } = await root.prepareCreate(target, false);
          symlinkSync(header.linkname ?? Buffer.alloc(0), host);
          setEntryMeta(host, header, opts, warn, true, true);
          await drain(body, header);
          break;
        }
        case 'link': {
          await drain(body, header);
          const name = show(header.name);
          const linkRel = entryComponents(header.linkname ?? Buffer.alloc(0));
          const linkFull = opts.at ? [...opts.at, ...linkRel] : linkRel;
          if (linkRel.length === 0) throw new TarError('TSBUILD_LAYER_UNSAFE', `invalid hardlink ${name}: empty target`, name);
          const linkTarget = [...(await root.resolve(linkFull.slice(0, -1), { followFinal: true })), linkFull[linkFull.length - 1]!];
          const found = await root.lookup(linkTarget);
          if (!found) throw new TarError('TSBUILD_LAYER_UNSAFE', `invalid hardlink ${name}: target ${show(header.linkname ?? '')} does not exist`, name);
          if (found.stat.isDirectory()) throw new TarError('TSBUILD_LAYER_UNSAFE', `invalid hardlink ${name}: target ${show(header.linkname ?? '')} is a directory`, name);
          if (key(linkTarget) === key(target)) break; // a link to itself: replacing it would delete it
          const from = found.layer === 0 ? found.host : await root.copyUp(linkTarget);
          const { host } = await root.prepareCreate(target, false);
          linkSync(from, host);
          break;
        }
        case 'char':
        case 'block':
        case 'fifo': {
          await drain(body, header);
          if (header.type !== 'fifo' && !devices) {
            warn(`skipping device node ${show(header.name)}: ${process.getuid?.() === 0 ? 'a user namespace (rootless) cannot make device nodes' : 'not running as root'}`);
            break;
          }
          const major = header.devmajor ?? 0;
          const minor = header.devminor ?? 0;
          if (major > 0xffffffff || minor > 0xffffffff || major < 0 || minor < 0) {
            const name = show(header.name);
            throw new TarError('TSBUILD_LAYER_UNSAFE', `invalid device ${name}: major/minor out of range`, name);
          }
          const { host } = await root.prepareCreate(target, false);
          const kind = header.type === 'char' ? S_IFCHR : header.type === 'block' ? S_IFBLK : S_IFIFO;
          mknod(host, kind | 0o600, header.type === 'fifo' ? 0n : makedev(major, minor));
          setEntryMeta(host, header, opts, warn, true);
          break;
        }
      }
      markCreated(created, target);
    } catch (err) {
      throw wrapEntryError(err, show(header.name));
    }
  }
  // A later entry may have replaced a directory (or a parent) with a symlink: look each
  // one up again rather than trusting its old host path.
  for (const { cs, mtime } of dirTimes.reverse()) {
    const e = await root.lookup(cs).catch(() => undefined);
    if (e?.layer === 0 && e.stat.isDirectory()) {
      try {
        lutimesSync(e.host, mtime, mtime);
      } catch {
        // as before: a directory time that cannot be set is not worth failing the layer
      }
    }
  }
  return { entries: count };
}

function markCreated(created: Created, target: Components): void {
  const k = key(target);
  created.entries.add(k);
  if (!created.holders) return;
  for (let i = k.indexOf('/'); i !== -1; i = k.indexOf('/', i + 1)) created.holders.add(k.slice(0, i));
}

async function applyWhiteout(root: RootFs, full: Components, base: Buffer, created: Created, raw: Buffer): Promise<void> {
  const parent = await root.resolve(full.slice(0, -1), { followFinal: true });
  const meaning = whiteoutMeaning(base);
  if (meaning.kind === 'opaque') {
    await root.makeOpaque(parent);
    if (root.whiteoutMode === 'delete') {
      await root.clearChildren(parent, (cs) => {
        const k = key(cs);
        return created.entries.has(k) || created.holders?.has(k) === true;
      });
    }
    return;
  }
  if (meaning.kind === 'aufs-meta') return;
  if (meaning.kind === 'invalid') throw new TarError('TSBUILD_LAYER_UNSAFE', `invalid whiteout entry ${show(raw)}`, show(raw));
  const target = [...parent, meaning.name];
  if (created.entries.has(key(target))) return; // an entry of this same layer stays
  await root.remove(target);
}

function setEntryMeta(host: Buffer, h: TarHeader, opts: ApplyOptions, warn: (m: string) => void, times: boolean, isSymlink = false): void {
  setMeta(
    host,
    {
      uid: opts.chown?.uid ?? h.uid,
      gid: opts.chown?.gid ?? h.gid,
      mode: isSymlink ? undefined : h.mode & 0o7777,
      xattrs: h.xattrs ?? [],
      times: times ? { atime: h.mtime, mtime: h.mtime } : undefined,
    },
    {
      onSkipped: (name) => warn(`${show(h.name)}: ignoring extended attribute ${name}`),
      onUnsupported: (name, errno) => warn(`${show(h.name)}: cannot set ${name}: ${errno}`),
    },
  );
}

/**
 * Write a new file (never an existing one: 'wx') from a tar body, streamed: pieces are
 * gathered up to WRITE_BATCH bytes and written with one call, so a small file costs
 * one write and a big one is never held in memory.
 */
async function writeBody(host: Buffer, body: AsyncIterable<Buffer>): Promise<void> {
  const fd = openSync(host, 'wx', 0o600);
  try {
    let batch: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      if (chunk.length === 0) continue;
      batch.push(chunk);
      size += chunk.length;
      if (size >= WRITE_BATCH) {
        writeAll(fd, batch);
        batch = [];
        size = 0;
      }
    }
    writeAll(fd, batch);
  } finally {
    closeSync(fd);
  }
}

/** Write every byte of `bufs` (non-empty buffers), however short the kernel's writes are. */
function writeAll(fd: number, bufs: Buffer[]): void {
  let i = 0;
  while (i < bufs.length) {
    let n = i === bufs.length - 1 ? writeSync(fd, bufs[i]!) : writevSync(fd, bufs.slice(i, i + 512));
    // wrapEntryError makes it a TarError naming the entry.
    if (n === 0) throw new Error('write made no progress');
    while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
    if (n > 0) bufs[i] = bufs[i]!.subarray(n);
  }
}

/** Bodies of entries other than files are empty: only a file's needs reading past. */
async function drain(body: AsyncIterable<Buffer>, header: TarHeader): Promise<void> {
  if (header.size === 0) return;
  for await (const _ of body) {
    // discard
  }
}

function wrapEntryError(err: unknown, name: string): Error {
  if (err instanceof TarError) return err;
  // A failed mknod or setxattr: named after the entry, as a Node fs error is below.
  if (err instanceof SysError) return new TarError('TSBUILD_TAR_INVALID', `${name}: ${err.message}`, name);
  if (err instanceof LayerstoreError) {
    // RootFs names the path it was resolving; say which entry it was for.
    return err.code === 'TSBUILD_LAYER_UNSAFE' ? new TarError('TSBUILD_LAYER_UNSAFE', `${name}: ${err.message}`, name) : err;
  }
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOSPC') return new LayerstoreError('TSBUILD_NO_SPACE', `${name}: no space left on device`, { cause: err });
  if (e.code === 'ENOTDIR') return new TarError('TSBUILD_LAYER_UNSAFE', `${name}: a parent is not a directory`, name);
  return new TarError('TSBUILD_TAR_INVALID', `${name}: ${e.message ?? String(err)}`, name);
}

