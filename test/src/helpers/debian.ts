/**
 * A Debian base for the tests that need a real distribution (apt-get): `debootstrap
 * --variant=minbase bookworm` from the mirror apt uses on this host, made once per
 * machine under /var/tmp and reused, then imported into a store as debian:bookworm by
 * tsbuild itself (`FROM scratch` + `ADD rootfs.tar /`). Nothing comes from a registry.
 */
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, tsbuild } from './cli.js';
import { removeDir, tempDir } from './fixtures.js';

const ROOTFS = '/var/tmp/tsbuild-test-debian-bookworm';
const FALLBACK_MIRROR = 'http://deb.debian.org/debian';

/** The first plain Debian mirror in apt's sources (deb822 or one-line), else deb.debian.org. */
export async function debianMirror(): Promise<string> {
  const files = ['/etc/apt/sources.list'];
  for (const f of await readdir('/etc/apt/sources.list.d').catch(() => [] as string[])) files.push(join('/etc/apt/sources.list.d', f));
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const m = /^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(https?:\/\/\S+\/debian)\/?(?:\s|$)/.exec(line.trim());
      if (m) return m[1]!;
    }
  }
  return FALLBACK_MIRROR;
}

/** Whether `url` answers over HTTP within 15 s (the tests that need the mirror skip without it). */
export async function reachable(url: string): Promise<boolean> {
  return fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(15_000) }).then((r) => r.ok, () => false);
}

/** The debootstrapped root filesystem (made on first use, then reused), as a directory on the host. */
export async function debianRootfs(mirror: string): Promise<string> {
  if (await stat(join(ROOTFS, 'usr/bin/apt-get')).then(() => true, () => false)) return ROOTFS;
  const partial = `${ROOTFS}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  const res = await run('debootstrap', ['--variant=minbase', 'bookworm', partial, mirror], { allowFail: true }).catch((err: unknown) => ({ code: -1, stdout: '', stderr: String(err) }));
  if (res.code !== 0) {
    await rm(partial, { recursive: true, force: true });
    throw new Error(`debootstrap bookworm from ${mirror} failed (Debian: apt-get install debootstrap): ${res.stderr.slice(-2000)}`);
  }
  await rename(partial, ROOTFS).catch(async (err: NodeJS.ErrnoException) => {
    // Another test process made it first: use theirs.
    await rm(partial, { recursive: true, force: true });
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
  });
  return ROOTFS;
}

/** A new store holding debian:bookworm (its root is returned); the caller removes its parent. */
export async function debianStore(mirror: string): Promise<string> {
  const rootfs = await debianRootfs(mirror);
  const ctx = await tempDir('debian-ctx');
  const dir = await tempDir('debian-store');
  try {
    const tar = await run('tar', ['--numeric-owner', '--xattrs', '-C', rootfs, '-cf', join(ctx, 'rootfs.tar'), '.'], { allowFail: true });
    if (tar.code !== 0) throw new Error(`tar of ${rootfs} failed: ${tar.stderr}`);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n');
    const root = join(dir, 'store');
    const res = await tsbuild(['build', '-q', '-t', 'debian:bookworm', ctx], { root });
    if (res.code !== 0) throw new Error(`importing the Debian rootfs failed: ${res.stderr}`);
    return root;
  } finally {
    await removeDir(ctx);
  }
}
