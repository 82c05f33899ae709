/**
 * The smallest ELF64 executable the kernel runs: one header, one R+X PT_LOAD segment that
 * maps the whole file at 0x400000, the entry right after the headers. The sandbox's init
 * (init.ts) and tsbuild-enter (cgroup/enter.ts) are machine code wrapped this way; they
 * touch no path and need no loader.
 */
import { writeSync } from 'node:fs';
import { F, F_SEAL, fcntl, MFD, memfdCreate } from './libc.js';

const BASE = 0x400000n;
const HEADERS = 64 + 56;

/** `machine`: e_machine (62 x86-64, 183 aarch64). */
export function staticElf(code: Buffer, machine: number): Buffer {
  const h = Buffer.alloc(HEADERS);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELF, 64-bit, little endian, version 1, SysV
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(machine, 18);
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

/**
 * `elf` in a sealed, close-on-exec memfd named `name`. The fd table is shared by all
 * threads, so workers execute it as `/proc/self/fd/<fd>`.
 */
export function sealedExecutable(name: string, elf: Buffer): number {
  let fd: number;
  try {
    // MFD_EXEC (Linux 6.3+) keeps the memfd executable under vm.memfd_noexec=1.
    fd = memfdCreate(name, MFD.ALLOW_SEALING | MFD.EXEC);
  } catch (err) {
    if ((err as { errno?: string }).errno !== 'EINVAL') throw err;
    fd = memfdCreate(name, MFD.ALLOW_SEALING);
  }
  writeSync(fd, elf, 0, elf.length, 0);
  fcntl(fd, F.ADD_SEALS, F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW | F_SEAL.WRITE);
  return fd;
}
