/**
 * The sandbox's PID 1: a 100-byte static program kept in a sealed memfd.
 *
 * Why it exists: /proc must show the sandbox's PID namespace, so it has to be mounted
 * (procfs `pidns=`) before the command starts, and the kernel only hands out a PID
 * namespace that already has a process in it (`/proc/thread-self/ns/pid_for_children`
 * is ENOENT until the namespace's init exists). The worker therefore starts this init
 * first, mounts /proc, finishes the setup and then starts the command as PID 2.
 *
 * What it does: PR_SET_PDEATHSIG(SIGKILL), so it dies with the worker thread that
 * started it; SIGCHLD ignored, so the kernel reaps the orphans it inherits (like
 * `docker run --init`); then it reads its stdin, a pipe whose only writer is tsbuild,
 * and exits at EOF. When the command exits the worker closes that pipe; if tsbuild dies
 * (even by `kill -9`) the kernel closes it. Either way the init exits and the kernel
 * kills every other process of the PID namespace. It touches no path, so running a host
 * binary inside the sandbox is harmless; the memfd is sealed against writes
 * (CVE-2019-5736), and the init keeps full capabilities, so processes of the sandbox
 * (no CAP_SYS_PTRACE) cannot open its /proc/1/{exe,cwd,root,fd}.
 *
 * The machine code was assembled with llvm-mc from the source quoted next to it.
 */
import { writeSync } from 'node:fs';
import { ExecutorError } from './errors.js';
import { F, F_SEAL, fcntl, MFD, memfdCreate } from './libc.js';

/*
 *    mov edi,1; mov esi,9; mov eax,157; syscall            prctl(PR_SET_PDEATHSIG, SIGKILL)
 *    sub rsp,64; xor eax,eax; mov [rsp+8],rax; mov [rsp+16],rax; mov [rsp+24],rax
 *    inc eax; mov [rsp],rax                                 struct sigaction { SIG_IGN }
 *    mov edi,17; mov rsi,rsp; xor edx,edx; mov r10d,8; mov eax,13; syscall
 *                                                           rt_sigaction(SIGCHLD, &sa, 0, 8)
 * 1: xor edi,edi; lea rsi,[rsp+32]; mov edx,16; xor eax,eax; syscall   read(0, buf, 16)
 *    test rax,rax; jg 1b; cmp rax,-4; je 1b                 data or EINTR: read again
 *    xor edi,edi; mov eax,231; syscall                      exit_group(0)
 */
const X86_64 =
  'bf01000000be09000000b89d0000000f054883ec4031c0488944240848894424104889442418ffc0488904' +
  '24bf110000004889e631d241ba08000000b80d0000000f0531ff488d742420ba1000000031c00f054885c0' +
  '7feb4883f8fc74e531ffb8e70000000f05';

/*
 *    mov x0,#1; mov x1,#9; mov x8,#167; svc #0             prctl(PR_SET_PDEATHSIG, SIGKILL)
 *    sub sp,sp,#64; mov x9,#1; stp x9,xzr,[sp]; stp xzr,xzr,[sp,#16]
 *    mov x0,#17; mov x1,sp; mov x2,#0; mov x3,#8; mov x8,#134; svc #0   rt_sigaction
 * 1: mov x0,#0; add x1,sp,#32; mov x2,#16; mov x8,#63; svc #0         read
 *    cmp x0,#0; b.gt 1b; cmn x0,#4; b.eq 1b
 *    mov x0,#0; mov x8,#94; svc #0                         exit_group(0)
 */
const AARCH64 =
  '200080d2210180d2e81480d2010000d4ff0301d1290080d2e97f00a9ff7f01a9200280d2e1030091020080d2' +
  '030180d2c81080d2010000d4000080d2e1830091020280d2e80780d2010000d41f0000f14cffff541f1000b1' +
  '00ffff54000080d2c80b80d2010000d4';

const BASE = 0x400000n;
const HEADERS = 64 + 56;

/** A minimal ELF64 executable: one header, one R+X PT_LOAD segment, entry right after the headers. */
export function initElf(arch: string = process.arch): Buffer {
  const spec = arch === 'x64' ? { machine: 62, code: X86_64 } : arch === 'arm64' ? { machine: 183, code: AARCH64 } : null;
  if (!spec) throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', `the sandbox supports x64 and arm64, not ${arch}`);
  const code = Buffer.from(spec.code, 'hex');
  const h = Buffer.alloc(HEADERS);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELF, 64-bit, little endian, version 1, SysV
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(spec.machine, 18);
  h.writeUInt32LE(1, 20);
  h.writeBigUInt64LE(BASE + BigInt(HEADERS), 24); // e_entry
  h.writeBigUInt64LE(64n, 32); // e_phoff
  h.writeUInt16LE(64, 52); // e_ehsize
  h.writeUInt16LE(56, 54); // e_phentsize
  h.writeUInt16LE(1, 56); // e_phnum
  const size = BigInt(HEADERS + code.length);
  h.writeUInt32LE(1, 64); // PT_LOAD
  h.writeUInt32LE(5, 68); // PF_R | PF_X
  h.writeBigUInt64LE(0n, 72); // p_offset
  h.writeBigUInt64LE(BASE, 80); // p_vaddr
  h.writeBigUInt64LE(BASE, 88); // p_paddr
  h.writeBigUInt64LE(size, 96); // p_filesz
  h.writeBigUInt64LE(size, 104); // p_memsz
  h.writeBigUInt64LE(0x10000n, 112); // p_align (covers 64 KiB pages)
  return Buffer.concat([h, code]);
}

let sealed: number | undefined;

/**
 * The init as a sealed, close-on-exec memfd, created once per process. The fd table is
 * shared by all threads, so workers execute it as `/proc/self/fd/<fd>`.
 */
export function initMemfd(): number {
  if (sealed !== undefined) return sealed;
  let fd: number;
  try {
    // MFD_EXEC (Linux 6.3+) keeps the memfd executable under vm.memfd_noexec=1.
    fd = memfdCreate('tsbuild-init', MFD.ALLOW_SEALING | MFD.EXEC);
  } catch (err) {
    if ((err as { errno?: string }).errno !== 'EINVAL') throw err;
    fd = memfdCreate('tsbuild-init', MFD.ALLOW_SEALING);
  }
  const elf = initElf();
  writeSync(fd, elf, 0, elf.length, 0);
  fcntl(fd, F.ADD_SEALS, F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW | F_SEAL.WRITE);
  sealed = fd;
  return fd;
}
