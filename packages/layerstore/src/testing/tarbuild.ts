/**
 * Declarative tar archives for tests (the shape of containerd's `tartest`): a list of
 * entries made by `file`, `dir`, `symlink`, `hardlink`, `whiteout`, `opaque`, `char`,
 * `block`, `fifo` and `raw`, turned into bytes or straight into reader entries.
 * Internal to the package's tests: exported from nowhere public.
 *
 *   const layer = [dir('etc'), file('etc/passwd', 'root:x:0:0'), whiteout('etc/motd')];
 *   await applyTar(root, entries(layer), { whiteouts: true });
 *
 * Names are strings (UTF-8) or Buffers (any bytes). Entries are encoded by the real
 * codec (`encodeHeader`); `raw` pieces go into the stream verbatim, for what the
 * encoder refuses to write (GNU long names, global headers, huge device numbers).
 */
import { encodeHeader, readTar, type TarEntry, type TarHeader } from '../tar/index.js';
import { OPAQUE_MARKER, whiteoutName } from '../layer/whiteout.js';

export type Name = string | Buffer;

export interface EntryOptions {
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** PAX SCHILY.xattr.* records. */
  xattrs?: Record<string, string | Buffer>;
}

/** One piece of an archive: a header with its body, or bytes copied as they are. */
export type Piece = { header: TarHeader; body?: Buffer } | { raw: Buffer };

export const MTIME = 1_700_000_000;

const bytes = (n: Name): Buffer => (typeof n === 'string' ? Buffer.from(n) : n);

function header(name: Name, type: TarHeader['type'], defaultMode: number, opts: EntryOptions): TarHeader {
  const h: TarHeader = {
    name: bytes(name),
    type,
    mode: opts.mode ?? defaultMode,
    uid: opts.uid ?? 0,
    gid: opts.gid ?? 0,
    size: 0,
    mtime: opts.mtime ?? MTIME,
  };
  if (opts.xattrs) {
    h.xattrs = new Map(Object.entries(opts.xattrs).map(([k, v]) => [k, bytes(v)]));
  }
  return h;
}

export function file(name: Name, content: Name = '', opts: EntryOptions = {}): Piece {
  const body = bytes(content);
  return { header: { ...header(name, 'file', 0o644, opts), size: body.length }, body };
}

/** A directory; the name gets a trailing '/' unless it has one. */
export function dir(name: Name, opts: EntryOptions = {}): Piece {
  const n = bytes(name);
  return { header: header(n[n.length - 1] === 0x2f ? n : Buffer.concat([n, Buffer.from('/')]), 'directory', 0o755, opts) };
}

export function symlink(name: Name, target: Name, opts: EntryOptions = {}): Piece {
  return { header: { ...header(name, 'symlink', 0o777, opts), linkname: bytes(target) } };
}

export function hardlink(name: Name, target: Name, opts: EntryOptions = {}): Piece {
  return { header: { ...header(name, 'link', 0o644, opts), linkname: bytes(target) } };
}

export function char(name: Name, major: number, minor: number, opts: EntryOptions = {}): Piece {
  return { header: { ...header(name, 'char', 0o666, opts), devmajor: major, devminor: minor } };
}

export function block(name: Name, major: number, minor: number, opts: EntryOptions = {}): Piece {
  return { header: { ...header(name, 'block', 0o660, opts), devmajor: major, devminor: minor } };
}

export function fifo(name: Name, opts: EntryOptions = {}): Piece {
  return { header: header(name, 'fifo', 0o644, opts) };
}

/** `.wh.<base>` beside `name`: deletes `name` of the layers below. */
export function whiteout(name: Name): Piece {
  const n = bytes(name);
  const cut = n.lastIndexOf(0x2f) + 1;
  return file(Buffer.concat([n.subarray(0, cut), whiteoutName(n.subarray(cut))]), '', { mode: 0 });
}

/** `<dir>/.wh..wh..opq`: hides every lower child of `dir` ('' for the root). */
export function opaque(dirName: Name): Piece {
  const n = bytes(dirName);
  const prefix = n.length === 0 || n[n.length - 1] === 0x2f ? n : Buffer.concat([n, Buffer.from('/')]);
  return file(Buffer.concat([prefix, OPAQUE_MARKER]), '', { mode: 0 });
}

export function raw(data: Buffer): Piece {
  return { raw: data };
}

function pad(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** The archive's bytes, with the end-of-archive marker unless `end` is false. */
export function tarBytes(pieces: readonly Piece[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const p of pieces) {
    if ('raw' in p) {
      parts.push(p.raw);
      continue;
    }
    const body = p.body ?? Buffer.alloc(0);
    parts.push(encodeHeader(p.header), body, pad(body.length));
  }
  if (opts.end ?? true) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The bytes in chunks of `size` (so bodies straddle chunk boundaries). */
export async function* chunks(data: Buffer, size = 4096): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** The archive as the tar reader sees it: what `applyTar` takes. */
export function entries(pieces: readonly Piece[]): AsyncGenerator<TarEntry> {
  return readTar(chunks(tarBytes(pieces)));
}
