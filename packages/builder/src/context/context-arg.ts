/**
 * The CONTEXT and `-f` arguments of `tsbuild build`, in docker's forms:
 *
 *   tsbuild build DIR                     the directory (a local path wins over anything below)
 *   tsbuild build - < Dockerfile          a Dockerfile, no context files
 *   tsbuild build - < context.tar[.gz]    the archive is the context; -f names a file inside it
 *   tsbuild build -f - DIR < Dockerfile   the Dockerfile from stdin, the directory as context
 *   tsbuild build URL | git reference     not supported yet: a typed error saying so
 *
 * What comes from stdin goes to a private directory (`tempDir`), removed afterwards.
 */
import { existsSync } from 'node:fs';
import { lstat, rm } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { hostPath, RootFs } from '@tsbuild/layerstore';
import { BuildError, UsageError } from '../errors.js';
import { dockerfileFromStdin, readStdinContext } from './stdin-context.js';

export interface ContextArgs {
  context: string;
  file?: string;
}

export interface ContextOptions {
  stdin: Readable & { isTTY?: boolean };
  /** A new private directory for what stdin holds (e.g. under the store's tmp/). */
  tempDir: () => Promise<string>;
  onWarning?: (message: string) => void;
}

/** docker's rules (cli/command/image/build.go, urlutil): which contexts are remote. */
export function remoteContext(context: string): 'git' | 'url' | undefined {
  const url = /^https?:\/\//.test(context);
  if ((url && /\.git(?:#.+)?$/.test(context)) || /^(?:git:\/\/|github\.com\/|git@)/.test(context)) return 'git';
  return url ? 'url' : undefined;
}

function stdinUsable(stdin: ContextOptions['stdin'], what: string): void {
  if (stdin.isTTY) throw new UsageError(`${what} reads stdin, but stdin is a terminal: redirect a file or pipe into it`);
}

/** `-f NAME` inside an extracted archive: resolved inside it (no `..` or symlink leads out). */
async function insideArchive(contextDir: string, file: string): Promise<string> {
  const rel = posix.normalize(`/${file}`);
  const cs = await new RootFs({ upper: contextDir }).resolve(rel, { followFinal: true });
  const path = hostPath(contextDir, cs).toString('utf8');
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile()) throw new BuildError('TSBUILD_CONTEXT_NOT_FOUND', `-f ${file}: ${st ? 'not a file' : 'no such file'} in the build context archive on stdin`);
  return path;
}

/**
 * Run `fn` with a context directory and Dockerfile path made from the arguments; what
 * stdin held is removed afterwards, whatever `fn` does.
 */
export async function withBuildContext<T>(args: ContextArgs, opts: ContextOptions, fn: (ctx: ContextArgs) => Promise<T>): Promise<T> {
  const { context, file } = args;
  if (context !== '-' && file !== '-') {
    const remote = existsSync(context) ? undefined : remoteContext(context);
    if (remote) {
      throw new BuildError('TSBUILD_UNSUPPORTED', `build context ${JSON.stringify(context)}: remote contexts (${remote === 'git' ? 'git repositories' : 'URLs'}) are not supported yet; ${remote === 'git' ? 'clone it' : 'download it'} and build the directory`);
    }
    return fn(args);
  }
  if (context === '-' && file === '-') throw new UsageError('build - with -f -: stdin cannot be both the context and the Dockerfile (give -f a path inside the context archive)');
  stdinUsable(opts.stdin, context === '-' ? 'build -' : '-f -');
  const dir = await opts.tempDir();
  try {
    if (context !== '-') return await fn({ context, file: await dockerfileFromStdin(opts.stdin, dir) });
    const got = await readStdinContext(opts.stdin, dir, opts.onWarning ? { onWarning: opts.onWarning } : {});
    if (got.kind === 'dockerfile') return await fn({ context: got.contextDir, file: got.dockerfile });
    return await fn({ context: got.contextDir, file: await insideArchive(got.contextDir, file ?? 'Dockerfile') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
