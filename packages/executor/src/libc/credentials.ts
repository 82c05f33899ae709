/** Credentials of the calling thread: ids, groups, capabilities, prctl and seccomp (see binding.ts on raw calls). */
import koffi from 'koffi';
import { check, f, SYS } from './binding.js';

export const PR = { SET_PDEATHSIG: 1, CAPBSET_READ: 23, CAPBSET_DROP: 24, SET_NO_NEW_PRIVS: 38, CAP_AMBIENT: 47 } as const;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;

/** Set uid/gid/groups of the calling thread only (raw syscalls; see the file comment). */
export function setThreadGroups(groups: readonly number[]): void {
  check('setgroups', f.syscallSetgroups(SYS.setgroups, groups.length, Uint32Array.from(groups)));
}

export function setThreadResgid(gid: number): void {
  check('setresgid', f.syscall3(SYS.setresgid, gid, gid, gid), String(gid));
}

export function setThreadResuid(uid: number): void {
  check('setresuid', f.syscall3(SYS.setresuid, uid, uid, uid), String(uid));
}

const CAP_VERSION_3 = 0x20080522;

/** Capability sets of the calling thread (64-bit masks). */
export function capget(): { effective: bigint; permitted: bigint; inheritable: bigint } {
  const hdr = Uint32Array.from([CAP_VERSION_3, 0]);
  const data = new Uint32Array(6);
  check('capget', f.syscallCap(SYS.capget, hdr, data));
  const join = (lo: number, hi: number) => (BigInt(hi) << 32n) | BigInt(lo);
  return { effective: join(data[0]!, data[3]!), permitted: join(data[1]!, data[4]!), inheritable: join(data[2]!, data[5]!) };
}

/** Set the calling thread's capability sets. */
export function capset(sets: { effective: bigint; permitted: bigint; inheritable: bigint }): void {
  const lo = (v: bigint) => Number(v & 0xffffffffn);
  const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
  const hdr = Uint32Array.from([CAP_VERSION_3, 0]);
  const data = Uint32Array.from([lo(sets.effective), lo(sets.permitted), lo(sets.inheritable), hi(sets.effective), hi(sets.permitted), hi(sets.inheritable)]);
  check('capset', f.syscallCap(SYS.capset, hdr, data));
}

export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
  return check('prctl', f.prctl(option, a2, a3, a4, a5), String(option));
}

/** Drop one capability from the calling thread's bounding set. */
export function dropBoundingCap(cap: number): void {
  const r = f.prctl(PR.CAPBSET_DROP, cap, 0, 0, 0);
  if (r === -1 && koffi.errno() !== koffi.os.errno.EINVAL) check('prctl(PR_CAPBSET_DROP)', r, String(cap));
}

/**
 * seccomp(SECCOMP_SET_MODE_FILTER) for the calling thread only (no TSYNC): `program` is
 * an array of 8-byte `struct sock_filter`. Without no_new_privs it needs CAP_SYS_ADMIN.
 */
export function seccompSetFilter(program: Buffer): void {
  check('seccomp', f.syscallSeccomp(SYS.seccomp, 1, 0, { len: program.length / 8, filter: program }));
}
