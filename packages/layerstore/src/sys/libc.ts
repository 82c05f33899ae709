/**
 * The few libc calls the layer store needs that Node does not offer: advisory file
 * locks, extended attributes and device nodes. One binding per function; a failure
 * becomes a SysError that names the call and the errno (callers branch on `errno`): a
 * LayerstoreError, TSBUILD_NO_SPACE for ENOSPC and EDQUOT, else TSBUILD_STORE_IO.
 */
import koffi from 'koffi';
import { LayerstoreError } from '../errors.js';

const lib = koffi.load('libc.so.6');

export class SysError extends LayerstoreError {
  constructor(readonly call: string, readonly errno: string, readonly errnum: number, detail?: string) {
    super(errno === 'ENOSPC' || errno === 'EDQUOT' ? 'TSBUILD_NO_SPACE' : 'TSBUILD_STORE_IO', `${call}${detail ? ` ${detail}` : ''}: ${errno}`);
    this.name = 'SysError';
  }
}

const errnoNames = new Map<number, string>(Object.entries(koffi.os.errno).map(([k, v]) => [v, k]));

function fail(call: string, detail?: string): never {
  const n = koffi.errno();
  throw new SysError(call, errnoNames.get(n) ?? `errno ${n}`, n, detail);
}

const c = {
  flock: lib.func('int flock(int fd, int op)'),
  lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)'),
  llistxattr: lib.func('intptr_t llistxattr(const char *path, _Out_ uint8_t *list, size_t size)'),
  lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)'),
  lremovexattr: lib.func('int lremovexattr(const char *path, const char *name)'),
  mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
};

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** flock(2); returns false instead of throwing when LOCK_NB was asked and the lock is held. */
export function flock(fd: number, op: number): boolean {
  if (c.flock(fd, op) === 0) return true;
  if ((op & LOCK_NB) !== 0 && koffi.errno() === koffi.os.errno.EWOULDBLOCK) return false;
  fail('flock');
}

type PathArg = string | Buffer;

function cstr(p: PathArg): Buffer {
  const b = typeof p === 'string' ? Buffer.from(p) : p;
  return Buffer.concat([b, Buffer.alloc(1)]);
}

const show = (p: PathArg) => (typeof p === 'string' ? p : p.toString('latin1'));

/** Names of the extended attributes of a path (not following symlinks). ENOTSUP gives []. */
export function listXattrs(path: PathArg): string[] {
  const p = cstr(path);
  for (;;) {
    const need = c.llistxattr(p, null, 0);
    if (need < 0) {
      if (koffi.errno() === koffi.os.errno.ENOTSUP) return [];
      fail('llistxattr', show(path));
    }
    if (need === 0) return [];
    const buf = Buffer.alloc(Number(need));
    const got = c.llistxattr(p, buf, buf.length);
    if (got < 0) {
      if (koffi.errno() === koffi.os.errno.ERANGE) continue; // grew meanwhile
      fail('llistxattr', show(path));
    }
    return buf.subarray(0, Number(got)).toString('latin1').split('\0').filter(Boolean);
  }
}

/** One attribute's value, or undefined when it is not set. */
export function getXattr(path: PathArg, name: string): Buffer | undefined {
  const p = cstr(path);
  for (;;) {
    const need = c.lgetxattr(p, name, null, 0);
    if (need < 0) {
      const e = koffi.errno();
      if (e === koffi.os.errno.ENODATA || e === koffi.os.errno.ENOTSUP) return undefined;
      fail('lgetxattr', `${show(path)} ${name}`);
    }
    const buf = Buffer.alloc(Number(need));
    if (buf.length === 0) return buf;
    const got = c.lgetxattr(p, name, buf, buf.length);
    if (got < 0) {
      if (koffi.errno() === koffi.os.errno.ERANGE) continue;
      fail('lgetxattr', `${show(path)} ${name}`);
    }
    return buf.subarray(0, Number(got));
  }
}

export function setXattr(path: PathArg, name: string, value: Buffer): void {
  if (c.lsetxattr(cstr(path), name, value, value.length, 0) !== 0) fail('lsetxattr', `${show(path)} ${name}`);
}

export function removeXattr(path: PathArg, name: string): void {
  if (c.lremovexattr(cstr(path), name) !== 0 && koffi.errno() !== koffi.os.errno.ENODATA) {
    fail('lremovexattr', `${show(path)} ${name}`);
  }
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** makedev() as glibc encodes it. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function majorOf(rdev: number | bigint): number {
  const d = BigInt(rdev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
}

export function minorOf(rdev: number | bigint): number {
  const d = BigInt(rdev);
  return Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
}

export function mknod(path: PathArg, mode: number, dev: bigint = 0n): void {
  if (c.mknod(cstr(path), mode, dev) !== 0) fail('mknod', show(path));
}
