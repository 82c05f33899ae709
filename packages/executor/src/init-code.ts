/**
 * The machine code of the sandbox's init (init.ts), with the GNU assembler source it was
 * assembled from. init-code.test.ts assembles each source again (GNU `as` and Debian's
 * binutils-aarch64-linux-gnu) and compares, so the bytes cannot drift from the source:
 *
 *   as --64 -o init.o init.s && objcopy -O binary -j .text init.o init.bin
 *   aarch64-linux-gnu-as -o init.o init.s && aarch64-linux-gnu-objcopy -O binary -j .text init.o init.bin
 *
 * The program, position independent and touching no path:
 *   1. prctl(PR_SET_PDEATHSIG, SIGKILL): it dies with the worker thread that started it;
 *   2. rt_sigaction(SIGCHLD, SIG_IGN): the kernel reaps the orphans it inherits;
 *   3. only when started with an argument (argc >= 2): fsopen("proc", FSOPEN_CLOEXEC),
 *      and the fd number, or -errno, written to fd 1 as 4 little-endian bytes. A proc
 *      filesystem context belongs to the PID namespace of the task that opens it, so
 *      this one, opened by PID 1 of the sandbox, is the sandbox's /proc (for kernels
 *      without procfs `pidns=`; the worker takes the fd with pidfd_getfd);
 *   4. read(0) until EOF (EINTR: read again), then exit_group(0).
 */

export interface InitCode {
  /** e_machine of the ELF header. */
  machine: number;
  /** GNU as source. */
  source: string;
  /** The assembled .text, hex. */
  hex: string;
}

const X86_64_SOURCE = `
	.intel_syntax noprefix
	.text
	.globl _start
_start:
	mov r12, [rsp]              # argc
	mov edi, 1                  # PR_SET_PDEATHSIG
	mov esi, 9                  # SIGKILL
	mov eax, 157                # prctl
	syscall
	sub rsp, 64                 # struct sigaction at [rsp], a buffer at [rsp+32]
	xor eax, eax
	mov [rsp+8], rax            # sa_flags
	mov [rsp+16], rax           # sa_restorer
	mov [rsp+24], rax           # sa_mask
	inc eax
	mov [rsp], rax              # sa_handler = SIG_IGN
	mov edi, 17                 # SIGCHLD
	mov rsi, rsp
	xor edx, edx
	mov r10d, 8                 # sizeof(sigset_t)
	mov eax, 13                 # rt_sigaction
	syscall
	cmp r12, 2
	jb 1f
	lea rdi, [rip + proc]
	mov esi, 1                  # FSOPEN_CLOEXEC
	mov eax, 430                # fsopen
	syscall
	mov [rsp+32], eax           # the fd, or -errno
	mov edi, 1
	lea rsi, [rsp+32]
	mov edx, 4
	mov eax, 1                  # write
	syscall
1:	xor edi, edi
	lea rsi, [rsp+32]
	mov edx, 16
	xor eax, eax                # read
	syscall
	test rax, rax
	jg 1b                       # data: read again
	cmp rax, -4
	je 1b                       # EINTR: read again
	xor edi, edi
	mov eax, 231                # exit_group
	syscall
proc:	.asciz "proc"
`;

const X86_64_HEX =
  '4c8b2424bf01000000be09000000b89d0000000f054883ec4031c0488944240848894424104889442418ffc0' +
  '48890424bf110000004889e631d241ba08000000b80d0000000f054983fc02722d488d3d4a000000be010000' +
  '00b8ae0100000f0589442420bf01000000488d742420ba04000000b8010000000f0531ff488d742420ba1000' +
  '000031c00f054885c07feb4883f8fc74e531ffb8e70000000f0570726f6300';

const AARCH64_SOURCE = `
	.text
	.globl _start
_start:
	ldr x19, [sp]               // argc
	mov x0, #1                  // PR_SET_PDEATHSIG
	mov x1, #9                  // SIGKILL
	mov x8, #167                // prctl
	svc #0
	sub sp, sp, #64             // struct sigaction at [sp], a buffer at [sp, #32]
	mov x9, #1                  // SIG_IGN
	stp x9, xzr, [sp]           // sa_handler, sa_flags
	stp xzr, xzr, [sp, #16]     // sa_restorer, sa_mask
	mov x0, #17                 // SIGCHLD
	mov x1, sp
	mov x2, #0
	mov x3, #8                  // sizeof(sigset_t)
	mov x8, #134                // rt_sigaction
	svc #0
	cmp x19, #2
	b.lo 1f
	adr x0, proc
	mov x1, #1                  // FSOPEN_CLOEXEC
	mov x8, #430                // fsopen
	svc #0
	str w0, [sp, #32]           // the fd, or -errno
	mov x0, #1
	add x1, sp, #32
	mov x2, #4
	mov x8, #64                 // write
	svc #0
1:	mov x0, #0
	add x1, sp, #32
	mov x2, #16
	mov x8, #63                 // read
	svc #0
	cmp x0, #0
	b.gt 1b                     // data: read again
	cmn x0, #4
	b.eq 1b                     // EINTR: read again
	mov x0, #0
	mov x8, #94                 // exit_group
	svc #0
proc:	.asciz "proc"
`;

const AARCH64_HEX =
  'f30340f9200080d2210180d2e81480d2010000d4ff0301d1290080d2e97f00a9ff7f01a9200280d2e1030091' +
  '020080d2030180d2c81080d2010000d47f0a00f163010054c0020010210080d2c83580d2010000d4e02300b9' +
  '200080d2e1830091820080d2080880d2010000d4000080d2e1830091020280d2e80780d2010000d41f0000f1' +
  '4cffff541f1000b100ffff54000080d2c80b80d2010000d470726f6300';

export const INIT_CODE: Record<'x64' | 'arm64', InitCode> = {
  x64: { machine: 62, source: X86_64_SOURCE, hex: X86_64_HEX },
  arm64: { machine: 183, source: AARCH64_SOURCE, hex: AARCH64_HEX },
};
