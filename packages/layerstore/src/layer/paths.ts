/**
 * In-root path handling on bytes. Names are Buffers end to end so names that are not
 * UTF-8 survive. A canonical path is an array of components,
 * none of them empty, '.', or '..'.
 */
import { TarError } from '../errors.js';

export type Components = Buffer[];

const SLASH = 0x2f;
const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

export function toBytes(p: string | Buffer): Buffer {
  return typeof p === 'string' ? Buffer.from(p) : p;
}

/** Split on '/', dropping empty components and '.'; '..' is kept for the caller. */
export function splitPath(p: string | Buffer): Buffer[] {
  const b = toBytes(p);
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i === b.length || b[i] === SLASH) {
      if (i > start) {
        const c = b.subarray(start, i);
        if (!c.equals(DOT)) out.push(c);
      }
      start = i + 1;
    }
  }
  return out;
}

export function isDotDot(c: Buffer): boolean {
  return c.equals(DOTDOT);
}

/** Lexically clean an in-root path; '..' at the root stays at the root (chroot semantics). */
export function cleanComponents(p: string | Buffer): Components {
  const out: Buffer[] = [];
  for (const c of splitPath(p)) {
    if (isDotDot(c)) out.pop();
    else out.push(c);
  }
  return out;
}

/**
 * Clean a tar entry name: a leading '/' is dropped (absolute names are root-relative),
 * but a '..' that would climb above the root is rejected.
 */
export function entryComponents(name: Buffer): Components {
  const out: Buffer[] = [];
  for (const c of splitPath(name)) {
    if (isDotDot(c)) {
      if (out.length === 0) throw new TarError('TSBUILD_LAYER_UNSAFE', `invalid entry name ${show(name)}: it climbs out of the root`, show(name));
      out.pop();
    } else out.push(c);
  }
  return out;
}

export function joinComponents(cs: Components): Buffer {
  if (cs.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const c of cs) parts.push(SLASH_BUF, c);
  return Buffer.concat(parts).subarray(1);
}

const SLASH_BUF = Buffer.from('/');

/** Host path of `cs` under `base` (as bytes). */
export function hostPath(base: string | Buffer, cs: Components): Buffer {
  const b = toBytes(base);
  if (cs.length === 0) return b;
  return Buffer.concat([b, SLASH_BUF, joinComponents(cs)]);
}

/** Readable form of a byte path for messages (invalid UTF-8 shown as \xNN). */
export function show(p: Buffer | string | Components): string {
  const b = Array.isArray(p) ? joinComponents(p) : toBytes(p);
  let s = '';
  const text = b.toString('utf8');
  if (Buffer.from(text).equals(b)) return text;
  for (const byte of b) s += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return s;
}

export function key(cs: Components): string {
  return joinComponents(cs).toString('latin1');
}
