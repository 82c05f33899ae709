/**
 * Extended attributes and exact times of paths given as bytes, never following a final
 * symlink: what the chroot mode's copying snapshotter and change computation (chroot/)
 * need that Node does not offer. ENOTSUP (a filesystem without xattrs) reads as none.
 */
import koffi from 'koffi';
import { SyscallError } from '../errors.js';
import { errnoName } from './binding.js';

const lib = koffi.load('libc.so.6');
const c = {
  lgetxattr: lib.func('intptr_t lgetxattr(const uint8_t *path, const char *name, _Out_ uint8_t *value, size_t size)'),
  llistxattr: lib.func('intptr_t llistxattr(const uint8_t *path, _Out_ uint8_t *list, size_t size)'),
  lsetxattr: lib.func('int lsetxattr(const uint8_t *path, const char *name, const uint8_t *value, size_t size, int flags)'),
  utimensat: lib.func('int utimensat(int dirfd, const uint8_t *path, const int64_t *times, int flags)'),
  mknod: lib.func('int mknod(const uint8_t *path, uint32_t mode, uint64_t dev)'),
};

const cstr = (p: Buffer) => Buffer.concat([p, Buffer.alloc(1)]);
const show = (p: Buffer) => p.toString('latin1');

function fail(call: string, detail: string): never {
  const n = koffi.errno();
  throw new SyscallError(call, errnoName(n), n, detail);
}

/** Names of the extended attributes at `path`. */
export function listXattrs(path: Buffer): string[] {
  const p = cstr(path);
  for (;;) {
    const need = Number(c.llistxattr(p, null, 0));
    if (need < 0) {
      if (koffi.errno() === koffi.os.errno.ENOTSUP) return [];
      fail('llistxattr', show(path));
    }
    if (need === 0) return [];
    const buf = Buffer.alloc(need);
    const got = Number(c.llistxattr(p, buf, buf.length));
    if (got < 0) {
      if (koffi.errno() === koffi.os.errno.ERANGE) continue;
      fail('llistxattr', show(path));
    }
    return buf.subarray(0, got).toString('latin1').split('\0').filter(Boolean);
  }
}

/** One attribute's value, or undefined when it is not set. */
export function getXattr(path: Buffer, name: string): Buffer | undefined {
  const p = cstr(path);
  for (;;) {
    const need = Number(c.lgetxattr(p, name, null, 0));
    if (need < 0) {
      const e = koffi.errno();
      if (e === koffi.os.errno.ENODATA || e === koffi.os.errno.ENOTSUP) return undefined;
      fail('lgetxattr', `${show(path)} ${name}`);
    }
    const buf = Buffer.alloc(need);
    if (need === 0) return buf;
    const got = Number(c.lgetxattr(p, name, buf, buf.length));
    if (got < 0) {
      if (koffi.errno() === koffi.os.errno.ERANGE) continue;
      fail('lgetxattr', `${show(path)} ${name}`);
    }
    return buf.subarray(0, got);
  }
}

export function setXattr(path: Buffer, name: string, value: Buffer): void {
  if (c.lsetxattr(cstr(path), name, value, value.length, 0) !== 0) fail('lsetxattr', `${show(path)} ${name}`);
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;

/** Access and modification times to the nanosecond (utimensat(2), the link itself for a symlink). */
export function setTimesNs(path: Buffer, atimeNs: bigint, mtimeNs: bigint): void {
  const s = 1_000_000_000n;
  const t = BigInt64Array.from([atimeNs / s, atimeNs % s, mtimeNs / s, mtimeNs % s]);
  if (c.utimensat(AT_FDCWD, cstr(path), t, AT_SYMLINK_NOFOLLOW) !== 0) fail('utimensat', show(path));
}

/** mknod(2) of a path given as bytes. */
export function mknodAt(path: Buffer, mode: number, dev: bigint): void {
  if (c.mknod(cstr(path), mode, dev) !== 0) fail('mknod', show(path));
}
