/**
 * Platforms (`os/arch[/variant]`), the one place they are parsed, normalised, compared
 * and written, as containerd's `platforms` package reads them: names normalised
 * (`x86_64` is amd64, `aarch64` arm64, `armhf` arm/v7, `macos` darwin), a lone OS or
 * architecture completed from this machine, and only names Go knows accepted (`foo/bar`
 * is an error, not a platform nobody can build).
 *
 * Two ways to compare: `samePlatform` (equal once normalised: what a build is for) and
 * `platformMatches` (an index entry for the wanted platform, a missing variant on
 * either side matching any: how an image is picked from a multi-platform index).
 */
import type { ImageConfig, Platform } from './types.js';

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm']);
const PART = /^[A-Za-z0-9_.-]+$/;
/** Node's process.arch -> OCI architecture. */
const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** The platform this machine runs (OCI names: amd64, arm64/v8, ...), the default wherever an image is chosen. */
export function hostPlatform(): Platform {
  const out: Platform = { architecture: NODE_ARCH[process.arch] ?? process.arch, os: 'linux' };
  if (process.arch === 'arm64') out.variant = 'v8';
  return out;
}

function normaliseOs(os: string): string {
  const o = os.toLowerCase();
  return o === 'macos' ? 'darwin' : o;
}

/** containerd's normalizeArch: the canonical architecture and variant. */
function normaliseArch(arch: string, variant: string): { architecture: string; variant: string } {
  const a = arch.toLowerCase();
  const v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      return { architecture: '386', variant: '' };
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return { architecture: 'amd64', variant: v === 'v1' ? '' : v };
    case 'aarch64':
    case 'arm64':
      return { architecture: 'arm64', variant: v === '8' || v === 'v8' ? '' : v };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      return { architecture: 'arm', variant: v === '' || v === '7' ? 'v7' : ['5', '6', '8'].includes(v) ? `v${v}` : v };
    default:
      return { architecture: a, variant: v };
  }
}

function platform(os: string, arch: { architecture: string; variant: string }): Platform {
  return { os, architecture: arch.architecture, ...(arch.variant ? { variant: arch.variant } : {}) };
}

/**
 * `linux/amd64`, `linux/arm/v7`, `arm64`, `linux`: the normalised platform, or what is
 * wrong with `spec` (callers name the flag or the line it came from in their own error).
 */
export function parsePlatform(spec: string): { platform: Platform } | { invalid: string } {
  const parts = spec.split('/');
  if (parts.length > 3 || parts.some((p) => !PART.test(p))) return { invalid: 'expected OS/ARCH[/VARIANT], e.g. linux/amd64' };
  const host = hostPlatform();
  if (parts.length === 1) {
    const word = parts[0]!;
    if (KNOWN_OS.has(normaliseOs(word))) return { platform: platform(normaliseOs(word), normaliseArch(host.architecture, host.variant ?? '')) };
    const arch = normaliseArch(word, '');
    if (KNOWN_ARCH.has(arch.architecture)) return { platform: platform(host.os, arch) };
    return { invalid: `unknown operating system or architecture ${JSON.stringify(word)}` };
  }
  const os = normaliseOs(parts[0]!);
  const arch = normaliseArch(parts[1]!, parts[2] ?? '');
  if (!KNOWN_OS.has(os)) return { invalid: `unknown operating system ${JSON.stringify(parts[0])}` };
  if (!KNOWN_ARCH.has(arch.architecture)) return { invalid: `unknown architecture ${JSON.stringify(parts[1])}` };
  return { platform: platform(os, arch) };
}

/** The platform an image config says it is for (keys in the order index entries are written). */
export function platformOf(config: Pick<ImageConfig, 'architecture' | 'os' | 'variant'>): Platform {
  return { architecture: config.architecture, os: config.os, ...(config.variant ? { variant: config.variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** The same platform once both are normalised (arm64 and arm64/v8 are one). */
export function samePlatform(a: Platform, b: Platform): boolean {
  const x = normaliseArch(a.architecture, a.variant ?? '');
  const y = normaliseArch(b.architecture, b.variant ?? '');
  return normaliseOs(a.os) === normaliseOs(b.os) && x.architecture === y.architecture && x.variant === y.variant;
}

export function isHostPlatform(p: Platform): boolean {
  return samePlatform(p, hostPlatform());
}

/** An index entry's platform `p` serves `want`: the same OS and architecture as written, and the variant unless either leaves it out. */
export function platformMatches(p: Platform | undefined, want: Platform): boolean {
  if (!p) return false;
  if (p.os !== want.os || p.architecture !== want.architecture) return false;
  return want.variant === undefined || p.variant === undefined || p.variant === want.variant;
}
