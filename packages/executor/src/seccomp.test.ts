/**
 * The seccomp program, run through a classic-BPF interpreter for every architecture it
 * covers (the sandbox tests check the native one in the kernel).
 */
import test from 'ava';
import { denyListProgram } from './sandbox/seccomp.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;

/** Evaluate a seccomp filter for one call: `arch`, syscall `nr`, and the low word of arg 0. */
function evaluate(prog: Buffer, arch: number, nr: number, arg0 = 0): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr >>> 0, 0);
  data.writeUInt32LE(arch >>> 0, 4);
  data.writeUInt32LE(arg0 >>> 0, 16);
  let a = 0;
  for (let pc = 0; pc < prog.length / 8; ) {
    const code = prog.readUInt16LE(pc * 8);
    const jt = prog.readUInt8(pc * 8 + 2);
    const jf = prog.readUInt8(pc * 8 + 3);
    const k = prog.readUInt32LE(pc * 8 + 4);
    pc++;
    switch (code) {
      case 0x20: a = data.readUInt32LE(k); break;
      case 0x15: pc += a === k ? jt : jf; break;
      case 0x35: pc += a >= k ? jt : jf; break;
      case 0x45: pc += (a & k) !== 0 ? jt : jf; break;
      case 0x06: return k;
      default: throw new Error(`unexpected BPF code ${code.toString(16)}`);
    }
  }
  throw new Error('fell off the end of the program');
}

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const AARCH64 = 0xc00000b7;
const CLONE_NEWUSER = 0x10000000;
const CLONE_VM_VFORK = 0x4100;

test('x86_64: namespaces, keyrings and mounts are refused, the rest allowed', (t) => {
  const p = denyListProgram('x64');
  t.is(evaluate(p, X86_64, 272), EPERM, 'unshare');
  t.is(evaluate(p, X86_64, 308), EPERM, 'setns');
  t.is(evaluate(p, X86_64, 250), EPERM, 'keyctl');
  t.is(evaluate(p, X86_64, 165), EPERM, 'mount');
  t.is(evaluate(p, X86_64, 430), EPERM, 'fsopen');
  t.is(evaluate(p, X86_64, 425), EPERM, 'io_uring_setup');
  t.is(evaluate(p, X86_64, 435), ENOSYS, 'clone3');
  t.is(evaluate(p, X86_64, 56, CLONE_NEWUSER), EPERM, 'clone(CLONE_NEWUSER)');
  t.is(evaluate(p, X86_64, 56, CLONE_VM_VFORK | 17), ALLOW, 'clone for posix_spawn');
  for (const nr of [0, 1, 2, 57, 59, 61, 101, 426, 434, 439]) t.is(evaluate(p, X86_64, nr), ALLOW, `syscall ${nr}`);
  t.is(evaluate(p, X86_64, 0x40000000 + 272), EPERM, 'x32 ABI');
});

test('i386 compat calls on x86_64 use their own numbers', (t) => {
  const p = denyListProgram('x64');
  t.is(evaluate(p, I386, 310), EPERM, 'unshare');
  t.is(evaluate(p, I386, 120, CLONE_NEWUSER), EPERM, 'clone(CLONE_NEWUSER)');
  t.is(evaluate(p, I386, 272), ALLOW, '272 is not unshare on i386');
  t.is(evaluate(p, I386, 3), ALLOW, 'read');
});

test('aarch64, and foreign architectures refused outright', (t) => {
  const p = denyListProgram('arm64');
  t.is(evaluate(p, AARCH64, 97), EPERM, 'unshare');
  t.is(evaluate(p, AARCH64, 219), EPERM, 'keyctl');
  t.is(evaluate(p, AARCH64, 220, CLONE_NEWUSER), EPERM, 'clone(CLONE_NEWUSER)');
  t.is(evaluate(p, AARCH64, 220, CLONE_VM_VFORK), ALLOW);
  t.is(evaluate(p, AARCH64, 63), ALLOW, 'read');
  t.is(evaluate(p, X86_64, 0), EPERM, 'x86_64 on an arm64 filter');
  t.is(evaluate(denyListProgram('x64'), AARCH64, 63), EPERM);
});
