/** Run the tsbuild CLI as a user would: a child process, with its own store. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../packages/builder/dist/cli.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The registry configuration of the machine the tests run on (registries.conf and its
 * drop-ins, dockerd's daemon.json) kept away from the CLI, so every machine behaves alike:
 * an empty registries.conf, no drop-in directory, no daemon.json. A test that means to
 * use one sets the variable again.
 */
export const NO_HOST_REGISTRY_CONFIG: Record<string, string> = {
  CONTAINERS_REGISTRIES_CONF: '/dev/null',
  TSBUILD_REGISTRIES_CONF_D: '',
  TSBUILD_DOCKER_DAEMON_JSON: '',
};

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  root: string;
  cwd?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Bytes for its stdin, or `{ file }` to stream a file there (`tsbuild load < FILE`); none: /dev/null. */
  stdin?: Buffer | string | { file: string };
  /** Its stdout into this file (`tsbuild save > FILE`); the result's stdout is then empty. */
  stdoutFile?: string;
}

/** The CLI as a child process with its own store and no host registry configuration; stdout and stderr piped, stdin too if asked. */
export function spawnCli(args: string[], opts: Omit<CliOptions, 'stdin' | 'stdoutFile'> & { stdin?: 'pipe' | 'ignore' }): ChildProcess & { stdout: Readable; stderr: Readable } {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TSBUILD_ROOT: opts.root, ...NO_HOST_REGISTRY_CONFIG, ...opts.env },
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    ...(opts.signal ? { signal: opts.signal } : {}),
  }) as ChildProcess & { stdout: Readable; stderr: Readable };
}

export function tsbuild(args: string[], opts: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const { stdin, stdoutFile, ...rest } = opts;
    const child = spawnCli(args, { ...rest, stdin: stdin === undefined ? 'ignore' : 'pipe' });
    let stdout = '';
    let stderr = '';
    // Resolved once the file has every byte, not merely when the process has ended.
    const written = stdoutFile ? pipeline(child.stdout, createWriteStream(stdoutFile)) : Promise.resolve();
    if (!stdoutFile) child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (stdin !== undefined) {
      // The CLI may stop reading early (a usage error): that is its answer, not ours to fail on.
      child.stdin!.on('error', () => {});
      if (typeof stdin === 'object' && 'file' in stdin) createReadStream(stdin.file).pipe(child.stdin!);
      else child.stdin!.end(stdin);
    }
    child.on('error', reject);
    child.on('close', (code, signal) => {
      written.then(() => resolve({ code, signal, stdout, stderr }), reject);
    });
  });
}

/** Run any command; resolves with its output, rejects on a non-zero exit. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): Promise<CliResult> {
  return outputOf(spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })).then((r) => {
    if (r.code !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  });
}

/** A child's stdout and stderr as text, and how it ended, once it has closed. */
export function outputOf(child: ChildProcess & { stdout: Readable; stderr: Readable }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
