/**
 * Test fixtures: a busybox rootfs made from the host's static busybox (Debian's
 * busybox-static), fresh upper/work dirs, and a one-call way to run a shell script.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Executor, RunRequest, RunResult } from '../types.js';

export const PASSWD = 'root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:Tester:/home/tester:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
export const GROUP = 'root:x:0:\nwheel:x:10:tester\ntester:x:1000:\nextra:x:2000:tester,root\nnogroup:x:65534:\n';

export class Fixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'tsbuild-exec-test-'));
  private n = 0;

  /**
   * A busybox rootfs. `system: true` (default) adds /etc/passwd, /etc/group, /proc,
   * /dev, /sys, /tmp and /root like an image would; `system: false` is just /bin, like
   * `FROM scratch` plus busybox, so every mount point is missing.
   */
  rootfs(opts: { system?: boolean } = {}): string {
    const root = this.path('rootfs');
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    execFileSync('chroot', [root, '/bin/busybox', '--install', '-s']);
    if (opts.system ?? true) {
      for (const d of ['etc', 'proc', 'dev', 'sys', 'root', 'home/tester']) mkdirSync(join(root, d), { recursive: true });
      mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
      writeFileSync(join(root, 'etc/passwd'), PASSWD);
      writeFileSync(join(root, 'etc/group'), GROUP);
    }
    return root;
  }

  /** A new directory under the fixture's temp dir. */
  path(name: string): string {
    const p = join(this.dir, `${name}-${this.n++}`);
    mkdirSync(p, { recursive: true });
    return p;
  }

  /** A fresh overlay upper and work dir pair. */
  layer(): { upperdir: string; workdir: string } {
    return { upperdir: this.path('upper'), workdir: this.path('work') };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ShellRun {
  result: RunResult;
  code: number;
  out: string;
  err: string;
}

/** Run `script` with /bin/sh -c as root in `/`; `req` overrides any part of the request. */
export async function sh(ex: Executor, lowerdirs: string[], script: string, req: Partial<Omit<RunRequest, 'process'>> & { process?: Partial<RunRequest['process']> } = {}): Promise<ShellRun> {
  let out = '';
  let err = '';
  const { process: proc, ...rest } = req;
  const result = await ex.run({
    rootfs: { lowerdirs },
    network: 'none',
    onStdout: (b) => (out += b.toString()),
    onStderr: (b) => (err += b.toString()),
    ...rest,
    process: { args: ['/bin/sh', '-c', script], env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], cwd: '/', user: { uid: 0, gid: 0 }, ...proc },
  });
  return { result, code: result.exitCode, out, err };
}
