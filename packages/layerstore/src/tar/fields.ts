/**
 * The 512-byte tar header block: field offsets, numeric and string field codecs,
 * the checksum, and the one error constructor the codec uses.
 *
 * Numeric fields are written like Go's archive/tar and GNU tar: zero-padded octal
 * followed by one NUL ("0000755\0"). They are read leniently in the same way Go reads
 * them (leading/trailing spaces and NULs trimmed) plus GNU base-256 (high bit set).
 */
import { isUtf8 } from 'node:buffer';
import { TarError } from '../errors.js';

export const BLOCK_SIZE = 512;

/** [offset, length] of each field. GNU headers reuse the ustar prefix area for other data. */
export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;

export type Field = keyof typeof F;

export const USTAR_MAGIC = Buffer.from('ustar\0', 'latin1');
export const USTAR_VERSION = Buffer.from('00', 'latin1');
export const GNU_MAGIC = Buffer.from('ustar  \0', 'latin1'); // magic + version together
/** star puts "tar\0" at offset 508 and shortens the prefix to 131 bytes. */
export const STAR_TRAILER = Buffer.from('tar\0', 'latin1');
export const STAR_PREFIX_LENGTH = 131;

export const ZERO_BLOCK: Readonly<Buffer> = Buffer.alloc(BLOCK_SIZE);

/** Bytes of zero padding that follow a body of `size` bytes. */
export function padding(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

/** Largest value an octal field of `len` bytes holds with its NUL terminator. */
export function octalMax(len: number): number {
  return 8 ** (len - 1) - 1;
}

/** Write `value` (0 <= value <= octalMax(len)) as zero-padded octal plus a NUL. */
export function writeOctal(blk: Buffer, field: Field, value: number): void {
  const [off, len] = F[field];
  blk.write(value.toString(8).padStart(len - 1, '0'), off, len - 1, 'latin1');
  blk[off + len - 1] = 0;
}

/**
 * A numeric field: octal, or GNU base-256 when the first byte has its high bit set.
 * Returns undefined when the field is malformed or not a safe integer.
 */
export function readNumeric(blk: Buffer, field: Field): number | undefined {
  const [off, len] = F[field];
  return (blk[off]! & 0x80) !== 0 ? readBase256(blk, off, off + len) : readOctal(blk, off, off + len);
}

function readOctal(b: Buffer, start: number, end: number): number | undefined {
  while (start < end && (b[start] === 0x20 || b[start] === 0)) start++;
  while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
  let x = 0;
  for (let i = start; i < end; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 7) return undefined;
    x = x * 8 + d; // at most 12 digits: always a safe integer
  }
  return x;
}

/** Big-endian two's complement with the marker bit ignored (0x80 positive, 0xff negative). */
function readBase256(b: Buffer, start: number, end: number): number | undefined {
  const inv = (b[start]! & 0x40) !== 0 ? 0xff : 0;
  let x = 0;
  for (let i = start; i < end; i++) {
    let c = b[i]! ^ inv;
    if (i === start) c &= 0x7f;
    x = x * 256 + c;
    if (x >= Number.MAX_SAFE_INTEGER) return undefined;
  }
  return inv === 0 ? x : -x - 1;
}

/** Copy of a string field up to its first NUL (the copy keeps input chunks collectable). */
export function readBytes(blk: Buffer, field: Field, len: number = F[field][1]): Buffer {
  const off = F[field][0];
  const raw = blk.subarray(off, off + len);
  const nul = raw.indexOf(0);
  return Buffer.from(nul < 0 ? raw : raw.subarray(0, nul));
}

/** Byte sum of the block with the checksum field counted as eight spaces. */
function unsignedSum(blk: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += blk[i]!;
  for (let i = 156; i < BLOCK_SIZE; i++) sum += blk[i]!;
  return sum;
}

/** Whether `stored` is the unsigned or the signed (old Sun tar) byte sum. */
export function checksumMatches(blk: Buffer, stored: number): boolean {
  let sum = unsignedSum(blk);
  if (sum === stored) return true;
  for (let i = 0; i < BLOCK_SIZE; i++) if (blk[i]! >= 0x80 && (i < 148 || i >= 156)) sum -= 0x100;
  return sum === stored;
}

/** Fill in the checksum field the way GNU tar and Go do: six octal digits, NUL, space. */
export function writeChecksum(blk: Buffer): void {
  const sum = unsignedSum(blk);
  blk.write(sum.toString(8).padStart(6, '0'), 148, 6, 'latin1');
  blk[154] = 0;
  blk[155] = 0x20;
}

/** A readable rendering of name bytes for messages: UTF-8 if valid, else \xNN escapes. */
export function displayName(name: Buffer): string {
  if (isUtf8(name)) return name.toString('utf8');
  let out = '';
  for (const c of name) out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return out;
}

/** The codec's only error: TSBUILD_TAR_INVALID, naming the entry when known. */
export function tarInvalid(message: string, entry?: Buffer | string): TarError {
  const name = entry === undefined ? undefined : typeof entry === 'string' ? entry : displayName(entry);
  return new TarError('TSBUILD_TAR_INVALID', name === undefined ? message : `${message} (entry ${JSON.stringify(name)})`, name);
}
