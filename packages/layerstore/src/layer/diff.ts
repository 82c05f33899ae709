/**
 * Turn an overlay upper directory into the entries of an OCI layer tar.
 *
 * Deterministic: depth-first, names sorted bytewise within each directory, numeric
 * owners, no uname/gname, times in whole seconds clamped to SOURCE_DATE_EPOCH when
 * given. Overlay whiteouts (in the store's form, whiteout.ts) become `.wh.<name>` and opaque
 * directories get a `.wh..wh..opq` entry first: this is the one place whiteouts
 * are written. Hardlinked files become tar links to the first
 * name seen. Sockets are skipped. Bodies are streamed from disk.
 */
import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import type { TarHeader, TarWriteEntry } from '../tar/index.js';
import { getXattr, listXattrs, majorOf, minorOf } from '../sys/libc.js';
import { OWNER_XATTR, readOwnerRecord } from './owner-record.js';
import { isOverlayXattr } from './rootfs.js';
import { DEVICE_FORM, isOpaque, isWhiteout, OPAQUE_MARKER, whiteoutName, type OverlayForm } from './whiteout.js';
import { hostPath, joinComponents, type Components } from './paths.js';
import { fileChunks } from '../store/fsutil.js';

export interface DiffOptions {
  /** Clamp every time to this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
  /** Extended attributes not to carry into the layer (besides overlay internals). */
  skipXattr?: (name: string) => boolean;
  /** The overlay form of the upper dir (whiteout.ts): the store's. Default DEVICE_FORM. */
  overlayForm?: OverlayForm;
}

const defaultSkip = (name: string) => name === 'security.selinux';

export async function* diffEntries(upperDir: string, opts: DiffOptions = {}): AsyncGenerator<TarWriteEntry> {
  const links = new Map<string, Buffer>();
  const skip = opts.skipXattr ?? defaultSkip;
  const clamp = (seconds: number) => (opts.sourceDateEpoch !== undefined && seconds > opts.sourceDateEpoch ? opts.sourceDateEpoch : seconds);
  const upper = Buffer.from(upperDir);
  const form = opts.overlayForm ?? DEVICE_FORM;

  async function* walk(dir: Components): AsyncGenerator<TarWriteEntry> {
    const names = (await readdir(hostPath(upper, dir), { encoding: 'buffer' })).sort(Buffer.compare);
    for (const name of names) {
      const cs = [...dir, name];
      const host = hostPath(upper, cs);
      const st = await lstat(host, { bigint: true });
      const rel = joinComponents(cs);
      const mtime = clamp(Number(st.mtimeNs / 1_000_000_000n));
      const recorded = readOwnerRecord(host);
      const base: Omit<TarHeader, 'type' | 'name'> = {
        mode: Number(st.mode & 0o7777n),
        uid: recorded?.uid ?? Number(st.uid),
        gid: recorded?.gid ?? Number(st.gid),
        size: 0,
        mtime,
      };
      if (isWhiteout(st, host, form.whiteout)) {
        yield { header: whiteoutHeader(Buffer.concat([prefixOf(dir), whiteoutName(name)]), clamp(0)) };
        continue;
      }
      if (st.isSocket()) continue;
      const xattrs = readXattrs(host, skip);
      if (st.isDirectory()) {
        yield { header: { ...base, ...(xattrs ? { xattrs } : {}), type: 'directory', name: Buffer.concat([rel, Buffer.from('/')]) } };
        if (isOpaque(host, form.opaque)) {
          yield { header: whiteoutHeader(Buffer.concat([rel, Buffer.from('/'), OPAQUE_MARKER]), clamp(0)) };
        }
        yield* walk(cs);
        continue;
      }
      const header: TarHeader = { ...base, ...(xattrs ? { xattrs } : {}), type: 'file', name: rel };
      if (st.isFile()) {
        if (st.nlink > 1n) {
          const id = inodeKey(st);
          const first = links.get(id);
          if (first) {
            yield { header: { ...header, type: 'link', linkname: first, size: 0 } };
            continue;
          }
          links.set(id, rel);
        }
        header.size = Number(st.size);
        yield { header, body: fileChunks(host, header.size) };
      } else if (st.isSymbolicLink()) {
        yield { header: { ...header, type: 'symlink', linkname: await readlink(host, { encoding: 'buffer' }) } };
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const type = st.isCharacterDevice() ? 'char' : 'block';
        yield { header: { ...header, type, devmajor: majorOf(st.rdev), devminor: minorOf(st.rdev) } };
      } else if (st.isFIFO()) {
        yield { header: { ...header, type: 'fifo' } };
      }
    }
  }

  yield* walk([]);
}

function prefixOf(dir: Components): Buffer {
  return dir.length === 0 ? Buffer.alloc(0) : Buffer.concat([joinComponents(dir), Buffer.from('/')]);
}

function whiteoutHeader(name: Buffer, mtime: number): TarHeader {
  return { name, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime };
}

function inodeKey(st: BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

function readXattrs(host: Buffer, skip: (name: string) => boolean): Map<string, Buffer> | undefined {
  let out: Map<string, Buffer> | undefined;
  for (const name of listXattrs(host).sort()) {
    if (isOverlayXattr(name) || name === OWNER_XATTR || skip(name)) continue;
    const v = getXattr(host, name);
    if (v === undefined) continue;
    (out ??= new Map()).set(name, v);
  }
  return out;
}
