/**
 * A seccomp deny-list for the command, installed on the worker thread just before it
 * drops its capabilities (so no_new_privs can stay off, as in Docker and BuildKit) and
 * inherited by everything the command starts.
 *
 * This is not moby's full allow-list profile. It refuses what the capability set alone
 * leaves open and a build never needs: new namespaces (unshare, setns, clone with
 * namespace flags; a user namespace would hand the command a full capability set in it),
 * the kernel keyrings (not namespaced: root in the sandbox would share the host root's
 * keys), the mount API, userfaultfd, bpf, perf_event_open, io_uring_setup and kexec. clone3
 * gets ENOSYS so libc falls back to clone, whose flags can be checked (moby does the same).
 * Other architectures than the native one and its 32-bit compat ABI get EPERM for
 * every call.
 */
import { seccompSetFilter } from '../libc.js';

interface ArchTable {
  audit: number;
  /** Refused with EPERM. */
  deny: number[];
  clone: number;
  clone3: number;
  /** x86_64: numbers with this bit belong to the x32 ABI, refused. */
  x32Bit?: number;
}

/*
 * Numbers shared by every architecture since Linux 5.x: io_uring_setup and the mount
 * API. Only io_uring_setup: without a ring the other io_uring calls are useless, and the
 * worker thread's own event loop may already hold one.
 */
const GENERIC = [425, 428, 429, 430, 431, 432, 433, 442];

const X86_64: ArchTable = {
  audit: 0xc000003e,
  //     unshare setns keyctl add_key request_key mount umount2 pivot_root userfaultfd bpf perf_event_open kexec_load kexec_file_load
  deny: [272, 308, 250, 248, 249, 165, 166, 155, 323, 321, 298, 246, 320, ...GENERIC],
  clone: 56,
  clone3: 435,
  x32Bit: 0x40000000,
};
const I386: ArchTable = {
  audit: 0x40000003,
  deny: [310, 346, 288, 286, 287, 21, 52, 217, 374, 357, 336, 283, ...GENERIC],
  clone: 120,
  clone3: 435,
};
const AARCH64: ArchTable = {
  audit: 0xc00000b7,
  deny: [97, 268, 219, 217, 218, 40, 39, 41, 282, 280, 241, 104, 294, ...GENERIC],
  clone: 220,
  clone3: 435,
};

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (moby's mask). */
const CLONE_NAMESPACES = 0x7e020000;

const LD_W_ABS = 0x20;
const JEQ = 0x15;
const JGE = 0x35;
const JSET = 0x45;
const RET = 0x06;
const ALLOW = 0x7fff0000;
const ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0 = 16;

type Insn = { code: number; k: number; jt?: string; jf?: string } | { label: string };

/** Assemble classic BPF with labelled forward jumps ("next" = fall through). */
function assemble(prog: Insn[]): Buffer {
  const code = prog.filter((i): i is Exclude<Insn, { label: string }> => !('label' in i));
  const at = new Map<string, number>();
  let n = 0;
  for (const i of prog) {
    if ('label' in i) at.set(i.label, n);
    else n++;
  }
  const out = Buffer.alloc(code.length * 8);
  code.forEach((i, pc) => {
    const rel = (l?: string) => {
      if (!l || l === 'next') return 0;
      const d = at.get(l)! - pc - 1;
      // A bug, never a user's failure: the filter is fixed, and its tests assemble it.
      if (!(d >= 0 && d < 256)) throw new Error(`seccomp: jump to ${l} out of range`);
      return d;
    };
    out.writeUInt16LE(i.code, pc * 8);
    out.writeUInt8(rel(i.jt), pc * 8 + 2);
    out.writeUInt8(rel(i.jf), pc * 8 + 3);
    out.writeUInt32LE(i.k >>> 0, pc * 8 + 4);
  });
  return out;
}

function archBlock(a: ArchTable, next: string): Insn[] {
  const p = `a${a.audit.toString(16)}`;
  return [
    { code: LD_W_ABS, k: OFF_ARCH },
    { code: JEQ, k: a.audit, jt: 'next', jf: next },
    { code: LD_W_ABS, k: OFF_NR },
    ...(a.x32Bit ? [{ code: JGE, k: a.x32Bit, jt: 'eperm', jf: 'next' }] : []),
    ...a.deny.map((nr) => ({ code: JEQ, k: nr, jt: 'eperm', jf: 'next' })),
    { code: JEQ, k: a.clone3, jt: 'enosys', jf: 'next' },
    { code: JEQ, k: a.clone, jt: `${p}clone`, jf: 'allow' },
    { label: `${p}clone` },
    { code: LD_W_ABS, k: OFF_ARG0 },
    { code: JSET, k: CLONE_NAMESPACES, jt: 'eperm', jf: 'allow' },
  ];
}

export function denyListProgram(arch: string = process.arch): Buffer {
  const tables = arch === 'x64' ? [X86_64, I386] : arch === 'arm64' ? [AARCH64] : [];
  const prog: Insn[] = [];
  tables.forEach((t, i) => {
    prog.push({ label: `arch${i}` }, ...archBlock(t, i + 1 < tables.length ? `arch${i + 1}` : 'eperm'));
  });
  prog.push(
    { label: 'eperm' }, { code: RET, k: ERRNO | EPERM },
    { label: 'enosys' }, { code: RET, k: ERRNO | ENOSYS },
    { label: 'allow' }, { code: RET, k: ALLOW },
  );
  return assemble(prog);
}

let native: Buffer | undefined;

export function installSeccomp(): void {
  seccompSetFilter((native ??= denyListProgram()));
}

/** Assembled while the worker waits for its run, not during it. */
export function prepareSeccomp(): void {
  native ??= denyListProgram();
}
