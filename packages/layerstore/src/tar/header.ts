/**
 * Tar headers: the public TarHeader value, the deterministic encoder (ustar + PAX, like
 * Go's archive/tar), and the decoder of one 512-byte block (ustar, GNU, star, v7).
 *
 * Names are Buffers end to end: the bytes in the archive are the bytes in TarHeader, so
 * non-UTF-8 names never collapse into each other.
 */
import {
  BLOCK_SIZE,
  F,
  STAR_PREFIX_LENGTH,
  STAR_TRAILER,
  USTAR_MAGIC,
  USTAR_VERSION,
  GNU_MAGIC,
  checksumMatches,
  octalMax,
  padding,
  readBytes,
  readNumeric,
  tarInvalid,
  writeChecksum,
  writeOctal,
  type Field,
} from './fields.js';
import { XATTR_PREFIX, encodePaxRecords } from './pax.js';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarHeader {
  /** Path bytes exactly as in the archive (after PAX/GNU long-name resolution); directories may end in '/'. */
  name: Buffer;
  type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Body length; 0 for everything but 'file'. */
  size: number;
  /** Seconds since the epoch, an integer (fractional PAX mtime truncated toward -infinity). */
  mtime: number;
  /** For 'link' and 'symlink'. */
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
  /** From/to PAX records SCHILY.xattr.<name>; values are raw bytes. */
  xattrs?: Map<string, Buffer>;
  /** Read only if present; the writer writes them only if given. */
  uname?: string;
  gname?: string;
}

const TYPEFLAGS: ReadonlyMap<TarEntryType, number> = new Map<TarEntryType, number>([
  ['file', 0x30],
  ['link', 0x31],
  ['symlink', 0x32],
  ['char', 0x33],
  ['block', 0x34],
  ['directory', 0x35],
  ['fifo', 0x36],
]);

/**
 * Name of the 'x' block that carries PAX records. Fixed (as in Python's tarfile) so the
 * output depends only on the header; a PAX-unaware reader would extract a file of this
 * name, which is harmless.
 */
export const PAX_HEADER_NAME = Buffer.from('././@PaxHeader', 'latin1');
const SLASH = Buffer.from('/');
const EMPTY = Buffer.alloc(0);

/**
 * Full header bytes for one entry: an optional PAX 'x' block plus its padded records,
 * then the 512-byte ustar block. Deterministic: the same header gives the same bytes.
 *
 * Values that do not fit ustar go to PAX records (`path`, `linkpath`, `uid`, `gid`,
 * `size`, `mtime`, `uname`, `gname`, `SCHILY.xattr.*`), sorted by key; the ustar field
 * then holds a truncated name or 0. Anything that cannot be represented faithfully
 * (a NUL in a name, a fractional number, linkname on a file) throws TarError.
 */
export function encodeHeader(h: TarHeader): Buffer {
  const { name } = h;
  if (!Buffer.isBuffer(name)) throw tarInvalid('cannot encode header: name must be a Buffer');
  const fail = (msg: string): never => {
    throw tarInvalid(`cannot encode header: ${msg}`, name);
  };
  const flag = TYPEFLAGS.get(h.type) ?? fail(`unknown entry type ${JSON.stringify(h.type)}`);
  const isLink = h.type === 'link' || h.type === 'symlink';
  const isDevice = h.type === 'char' || h.type === 'block';
  const linkname = h.linkname ?? EMPTY;
  if (!Buffer.isBuffer(linkname)) fail('linkname must be a Buffer');
  if (name.includes(0) || linkname.includes(0)) fail('NUL byte in name or linkname');
  if (!isLink && linkname.length > 0) fail(`linkname given for a ${h.type} entry`);
  const int = (field: string, v: unknown, min = 0): number =>
    Number.isSafeInteger(v) && (v as number) >= min ? (v as number) : fail(`${field} must be an integer >= ${min}`);
  const size = int('size', h.size);
  if (h.type !== 'file' && size !== 0) fail(`size must be 0 for a ${h.type} entry`);
  const devmajor = int('devmajor', h.devmajor ?? 0);
  const devminor = int('devminor', h.devminor ?? 0);
  if (!isDevice && (devmajor !== 0 || devminor !== 0)) fail(`device numbers given for a ${h.type} entry`);
  if (devmajor > octalMax(8) || devminor > octalMax(8)) fail('device number too large');

  const pax = new Map<string, Buffer>();
  const blk = Buffer.alloc(BLOCK_SIZE);
  putName(blk, name, pax);
  linkname.copy(blk, F.linkname[0], 0, F.linkname[1]);
  if (linkname.length > F.linkname[1]) pax.set('linkpath', linkname);
  writeOctal(blk, 'mode', int('mode', h.mode) & 0o7777);
  putNumber(blk, 'uid', int('uid', h.uid), pax);
  putNumber(blk, 'gid', int('gid', h.gid), pax);
  putNumber(blk, 'size', size, pax);
  putNumber(blk, 'mtime', int('mtime', h.mtime, Number.MIN_SAFE_INTEGER), pax);
  blk[F.typeflag[0]] = flag;
  USTAR_MAGIC.copy(blk, F.magic[0]);
  USTAR_VERSION.copy(blk, F.version[0]);
  putIdName(blk, 'uname', h.uname, pax, fail);
  putIdName(blk, 'gname', h.gname, pax, fail);
  writeOctal(blk, 'devmajor', devmajor);
  writeOctal(blk, 'devminor', devminor);
  for (const [key, value] of h.xattrs ?? []) {
    if (typeof key !== 'string' || key === '' || /[=\0]/.test(key)) fail(`invalid xattr name ${JSON.stringify(key)}`);
    if (!Buffer.isBuffer(value)) fail(`xattr ${key} value must be a Buffer`);
    pax.set(XATTR_PREFIX + key, value);
  }
  writeChecksum(blk);
  if (pax.size === 0) return blk;

  const records = encodePaxRecords(pax);
  const paxBlock = Buffer.alloc(BLOCK_SIZE);
  PAX_HEADER_NAME.copy(paxBlock);
  writeOctal(paxBlock, 'mode', 0o644);
  for (const field of ['uid', 'gid', 'mtime', 'devmajor', 'devminor'] as const) writeOctal(paxBlock, field, 0);
  writeOctal(paxBlock, 'size', records.length);
  paxBlock[F.typeflag[0]] = 0x78; // 'x'
  USTAR_MAGIC.copy(paxBlock, F.magic[0]);
  USTAR_VERSION.copy(paxBlock, F.version[0]);
  writeChecksum(paxBlock);
  return Buffer.concat([paxBlock, records, Buffer.alloc(padding(records.length)), blk]);
}

/** name field; else ustar prefix + name split at a '/'; else PAX path (Go's rules). */
function putName(blk: Buffer, name: Buffer, pax: Map<string, Buffer>): void {
  const [nameOff, nameLen] = F.name;
  if (name.length > nameLen) {
    const cut = splitUstarPath(name);
    if (cut !== undefined) {
      name.copy(blk, F.prefix[0], 0, cut);
      name.copy(blk, nameOff, cut + 1);
      return;
    }
    pax.set('path', name);
  }
  name.copy(blk, nameOff, 0, nameLen);
}

/** Index of the '/' that splits name into prefix (<= 155) and name (1..100), if any. */
function splitUstarPath(name: Buffer): number | undefined {
  let length = name.length;
  if (length > F.prefix[1] + 1) length = F.prefix[1] + 1;
  else if (name[length - 1] === 0x2f) length--; // keep a directory's trailing '/' in the name part
  const i = name.lastIndexOf(0x2f, length - 1);
  const suffix = name.length - i - 1;
  return i <= 0 || suffix === 0 || suffix > F.name[1] || i > F.prefix[1] ? undefined : i;
}

function putNumber(blk: Buffer, field: 'uid' | 'gid' | 'size' | 'mtime', value: number, pax: Map<string, Buffer>): void {
  if (value >= 0 && value <= octalMax(F[field][1])) {
    writeOctal(blk, field, value);
  } else {
    writeOctal(blk, field, 0);
    pax.set(field, Buffer.from(String(value), 'latin1'));
  }
}

/** uname/gname: short ASCII in the field (NUL-terminated), anything else as a PAX record. */
function putIdName(
  blk: Buffer,
  field: 'uname' | 'gname',
  value: string | undefined,
  pax: Map<string, Buffer>,
  fail: (msg: string) => never,
): void {
  if (value === undefined || value === '') return;
  if (typeof value !== 'string' || value.includes('\0')) fail(`${field} must be a string without NUL`);
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length < F[field][1] && bytes.length === value.length && /^[\x01-\x7f]*$/.test(value)) {
    bytes.copy(blk, F[field][0]);
  } else {
    pax.set(field, bytes);
  }
}

/** One header block as stored, before PAX/GNU overrides are applied. */
export interface RawHeader {
  typeflag: number;
  name: Buffer;
  linkname: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
}

/**
 * Decode and verify one non-zero header block. The checksum may be the unsigned or the
 * signed byte sum (old Sun tars). Fields that are absent in a format stay undefined.
 */
export function decodeBlock(blk: Buffer): RawHeader {
  const rawName = readBytes(blk, 'name');
  const stored = blk[F.chksum[0]]! & 0x80 ? undefined : readNumeric(blk, 'chksum');
  if (stored === undefined || !checksumMatches(blk, stored)) {
    throw tarInvalid('invalid header checksum', rawName);
  }
  const ustar = blk.compare(USTAR_MAGIC, 0, 6, F.magic[0], F.magic[0] + 6) === 0;
  const gnu = !ustar && blk.compare(GNU_MAGIC, 0, 8, F.magic[0], F.magic[0] + 8) === 0;
  let name = rawName;
  if (ustar) {
    const star = blk.compare(STAR_TRAILER, 0, 4, 508, 512) === 0;
    const prefix = readBytes(blk, 'prefix', star ? STAR_PREFIX_LENGTH : F.prefix[1]);
    if (prefix.length > 0) name = Buffer.concat([prefix, SLASH, rawName]);
  }
  const num = (field: Field): number => {
    const v = readNumeric(blk, field);
    if (v === undefined || (v < 0 && field !== 'mtime')) throw tarInvalid(`invalid ${field} field in header`, name);
    return v;
  };
  const h: RawHeader = {
    typeflag: blk[F.typeflag[0]]!,
    name,
    linkname: readBytes(blk, 'linkname'),
    mode: num('mode') & 0o7777,
    uid: num('uid'),
    gid: num('gid'),
    size: num('size'),
    mtime: num('mtime'),
  };
  if (ustar || gnu) {
    const uname = readBytes(blk, 'uname');
    const gname = readBytes(blk, 'gname');
    if (uname.length > 0) h.uname = uname.toString('utf8');
    if (gname.length > 0) h.gname = gname.toString('utf8');
    if (h.typeflag === 0x33 || h.typeflag === 0x34) {
      h.devmajor = num('devmajor');
      h.devminor = num('devminor');
    }
  }
  return h;
}
