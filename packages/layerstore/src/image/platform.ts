/** The platform this machine runs (OCI names: amd64, arm64/v8, ...), the default wherever an image is chosen. */
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): { architecture: string; os: string; variant?: string } {
  const out: { architecture: string; os: string; variant?: string } = { architecture: ARCH[process.arch] ?? process.arch, os: 'linux' };
  if (process.arch === 'arm64') out.variant = 'v8';
  return out;
}

