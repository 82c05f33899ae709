/** Run the tsbuild CLI with `input` on its stdin (`tsbuild build - < FILE`). */
import { spawn } from 'node:child_process';
import { CLI, NO_HOST_REGISTRY_CONFIG, REPO, type CliResult } from './cli.js';

export function tsbuildWithStdin(args: string[], input: Buffer | string, opts: { root: string; cwd?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TSBUILD_ROOT: opts.root, ...NO_HOST_REGISTRY_CONFIG },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The CLI may stop reading early (a usage error): that is its answer, not ours to fail on.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
