/** Fixture contexts: copied to a temp dir and prepared (fixtures/<case>/prepare.sh) like the golden script does. */
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, run } from './cli.js';

export const FIXTURES = join(REPO, 'fixtures');

/** What a test registers its cleanups with (ava's ExecutionContext). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A new temporary directory; with `t`, removed when that test ends. */
export async function tempDir(prefix: string, t?: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tsbuild-${prefix}-`));
  t?.teardown(() => removeDir(dir));
  return dir;
}

/** A prepared copy of fixtures/<name> (without prepare.sh, build-args and expected/). */
export async function prepareFixture(name: string): Promise<string> {
  const src = join(FIXTURES, name);
  const dir = await tempDir(`ctx-${name}`);
  await cp(src, dir, { recursive: true, filter: (p) => !/\/(prepare\.sh|build-args|expected)$/.test(p) });
  const prepare = join(src, 'prepare.sh');
  if (await exists(prepare)) await run('sh', [prepare, dir]);
  return dir;
}

export async function fixtureBuildArgs(name: string): Promise<string[]> {
  const file = join(FIXTURES, name, 'build-args');
  if (!(await exists(file))) return [];
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean).flatMap((l) => ['--build-arg', l]);
}

export async function expected(name: string, file: string): Promise<string> {
  return readFile(join(FIXTURES, name, 'expected', file), 'utf8');
}

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export async function removeDir(p: string): Promise<void> {
  await rm(p, { recursive: true, force: true });
}
