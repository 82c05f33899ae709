/**
 * PAX extended header records, handled as bytes: `<decimal length> <key>=<value>\n`.
 *
 * Values stay Buffers (binary xattrs such as security.capability, non-UTF-8 paths).
 * Anything malformed is a hard error, never a silent skip: a reader that skips a record
 * another reader honours is a parser differential.
 */
import { isUtf8 } from 'node:buffer';
import { tarInvalid } from './fields.js';

export const XATTR_PREFIX = 'SCHILY.xattr.';
const SPARSE_PREFIX = 'GNU.sparse.';

/** What one 'x' header says about the entry that follows it. */
export interface PaxOverrides {
  path?: Buffer;
  linkpath?: Buffer;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** '' when the record is present but empty (POSIX: the field is deleted). */
  uname?: string;
  gname?: string;
  xattrs?: Map<string, Buffer>;
}

/** One record; its length prefix counts its own digits (Go's formatPAXRecord). */
function formatRecord(key: Buffer, value: Buffer): Buffer {
  let size = key.length + value.length + 3; // ' ', '=', '\n'
  size += String(size).length;
  const actual = String(size).length + key.length + value.length + 3;
  if (actual !== size) size = actual; // adding the length's digits added a digit
  return Buffer.concat([Buffer.from(`${size} `, 'latin1'), key, Buffer.from('='), value, Buffer.from('\n')]);
}

/** Records sorted by key bytes, so the output does not depend on insertion order. */
export function encodePaxRecords(records: ReadonlyMap<string, Buffer>): Buffer {
  const keyed = [...records].map(([k, v]) => [Buffer.from(k, 'utf8'), v] as const);
  keyed.sort((a, b) => Buffer.compare(a[0], b[0]));
  return Buffer.concat(keyed.map(([k, v]) => formatRecord(k, v)));
}

/** Split PAX data into [key bytes, value bytes] pairs, in order. */
export function splitPaxRecords(data: Buffer, entry?: Buffer): Array<[Buffer, Buffer]> {
  const out: Array<[Buffer, Buffer]> = [];
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    // 20 digits is far beyond any possible length; bounds the scan on garbage.
    if (space <= pos || space - pos > 20) throw tarInvalid('malformed PAX record: bad length', entry);
    let len = 0;
    for (let i = pos; i < space; i++) {
      const d = data[i]! - 0x30;
      if (d < 0 || d > 9) throw tarInvalid('malformed PAX record: non-numeric length', entry);
      len = len * 10 + d;
    }
    const end = pos + len;
    if (len === 0 || end <= space + 1 || end > data.length) {
      throw tarInvalid('malformed PAX record: length is zero or runs past the header', entry);
    }
    if (data[end - 1] !== 0x0a) throw tarInvalid('malformed PAX record: missing newline', entry);
    const kv = data.subarray(space + 1, end - 1);
    const eq = kv.indexOf(0x3d);
    if (eq <= 0) throw tarInvalid('malformed PAX record: missing key', entry);
    const key = kv.subarray(0, eq);
    if (key.includes(0)) throw tarInvalid('malformed PAX record: NUL in key', entry);
    out.push([key, Buffer.from(kv.subarray(eq + 1))]);
    pos = end;
  }
  return out;
}

function decimal(key: string, value: Buffer, entry?: Buffer): number {
  const s = value.toString('latin1');
  const n = /^[0-9]+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n)) throw tarInvalid(`invalid PAX ${key} ${JSON.stringify(s.slice(0, 40))}`, entry);
  return n;
}

/** Seconds, possibly fractional and negative; truncated toward -infinity. */
function paxTime(value: Buffer, entry?: Buffer): number {
  const s = value.toString('latin1');
  const m = /^([+-]?)([0-9]+)(?:\.([0-9]*))?$/.exec(s);
  const secs = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(secs)) throw tarInvalid(`invalid PAX mtime ${JSON.stringify(s.slice(0, 40))}`, entry);
  if (m[1] !== '-') return secs;
  return /[1-9]/.test(m[3] ?? '') ? -secs - 1 : -secs;
}

function noNul(key: string, value: Buffer, entry?: Buffer): Buffer {
  if (value.includes(0)) throw tarInvalid(`PAX ${key} contains a NUL byte`, entry);
  return value;
}

/** Parse one per-entry ('x') header's data. Later records override earlier ones. */
export function parsePax(data: Buffer, entry?: Buffer): PaxOverrides {
  const o: PaxOverrides = {};
  for (const [keyBytes, value] of splitPaxRecords(data, entry)) {
    const key = keyBytes.toString('latin1');
    switch (key) {
      case 'path':
      case 'linkpath':
        if (value.length === 0) throw tarInvalid(`empty PAX ${key}`, entry);
        o[key] = noNul(key, value, entry);
        break;
      case 'size':
      case 'uid':
      case 'gid':
        o[key] = decimal(key, value, entry);
        break;
      case 'mtime':
        o.mtime = paxTime(value, entry);
        break;
      case 'uname':
      case 'gname':
        o[key] = noNul(key, value, entry).toString('utf8');
        break;
      default:
        if (key.startsWith(SPARSE_PREFIX)) throw tarInvalid('sparse files are not supported', entry);
        if (key.startsWith(XATTR_PREFIX)) {
          const nameBytes = keyBytes.subarray(XATTR_PREFIX.length);
          if (nameBytes.length === 0 || !isUtf8(nameBytes)) throw tarInvalid('invalid PAX xattr name', entry);
          (o.xattrs ??= new Map()).set(nameBytes.toString('utf8'), value);
        }
      // Other keys (atime, ctime, comment, hdrcharset, LIBARCHIVE.*, ...) are ignored.
    }
  }
  return o;
}
