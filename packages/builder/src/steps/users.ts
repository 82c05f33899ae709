/**
 * The users build steps run as and give files to, from the root filesystem being built
 * (`/etc/passwd`, `/etc/group` read inside the root, never the host's). The rules are the
 * executor's one resolver (@tsbuild/executor's user/), which follows docker:
 *   RUN under USER          -> resolveBuildRunUser (BuildKit's RUN)
 *   COPY/ADD --chown, WORKDIR under USER -> resolveChown (BuildKit's file operations)
 *   `tsbuild run`           -> resolveRunUser (`docker run`), in run/container.ts
 */
import { readFile } from 'node:fs/promises';
import type { RootFs } from '@tsbuild/layerstore';
import { resolveBuildRunUser, resolveChown, UserResolutionError, type ResolvedOwner, type ResolvedUser, type UserFiles } from '@tsbuild/executor';
import { BuildError, type SourceLocation } from '../errors.js';

async function readInRoot(root: RootFs, path: string): Promise<string | null> {
  const cs = await root.resolve(path, { followFinal: true });
  const e = await root.lookup(cs);
  if (!e || !e.stat.isFile()) return null;
  return (await readFile(e.host)).toString('utf8');
}

/** /etc/passwd and /etc/group of the root, `null` for one that is not there. */
export async function readUserFiles(root: RootFs): Promise<UserFiles> {
  return { passwd: await readInRoot(root, '/etc/passwd'), group: await readInRoot(root, '/etc/group') };
}

type Instruction = { kind: string; location: SourceLocation };

/** A spec the files cannot resolve, as a build error naming the instruction and its line. */
function located<T>(ins: Instruction, what: string, resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (err instanceof UserResolutionError) throw new BuildError('TSBUILD_INVALID_ARGUMENT', `${what}: ${err.message}`, { cause: err, location: ins.location });
    throw err;
  }
}

/** The user a RUN step runs as (root when there is no USER). */
export async function stepUser(spec: string | undefined, root: RootFs, ins: Instruction): Promise<ResolvedUser> {
  const files = await readUserFiles(root);
  return located(ins, ins.kind, () => resolveBuildRunUser(spec ?? '', files));
}

/** The owner of what a step creates for a `--chown` value or the USER of a WORKDIR (root when none). */
export async function stepOwner(spec: string | undefined, root: RootFs, ins: Instruction, what = ins.kind): Promise<ResolvedOwner> {
  if (!spec) return { uid: 0, gid: 0 };
  const files = await readUserFiles(root);
  return located(ins, what, () => resolveChown(spec, files));
}
