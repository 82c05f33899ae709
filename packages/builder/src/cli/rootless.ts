/**
 * Whether this tsbuild runs rootless, and if so, re-executing it in a user namespace
 * (the executor's rootless/: unshare(1), the id maps written from here, a pipe
 * handshake). Decided before anything else: a non-root tsbuild outside any user
 * namespace re-executes itself; inside, it runs as root of that namespace.
 *
 * The store's root is decided here, outside: `$TSBUILD_ROOT`, else
 * `$XDG_DATA_HOME/tsbuild`, and passed down as TSBUILD_ROOT, since inside getuid() is 0
 * and would choose /var/lib/tsbuild. A store another user owns is refused here (inside,
 * its files would belong to nobody).
 */
import { readFileSync, statSync } from 'node:fs';
import { defaultStoreRoot } from '@tsbuild/layerstore';
import { planMapping, reexecInUserNamespace, thisHost, userNamespace, type ChildExit } from '@tsbuild/executor';
import { BuildError } from '../errors.js';
import { isolationInArgv } from './isolation-flag.js';

/** Commands that never touch the store or the sandbox stay outside (`info` reports on the machine as the user sees it). */
function needsNamespace(argv: readonly string[]): boolean {
  return !argv.some((a) => a === '--help' || a === '-h' || a === '--version') && argv[0] !== 'help' && argv[0] !== 'info';
}

/**
 * Whether tsbuild should re-execute itself: not root, not yet in a user namespace, a
 * command that needs it, and an isolation of auto or rootless (`--isolation chroot` or
 * `sandbox` by a non-root user stays outside, where it fails naming what it needs).
 */
export function rootlessWanted(argv: readonly string[], env: NodeJS.ProcessEnv, uid = process.getuid?.() ?? 0): boolean {
  const isolation = isolationInArgv(argv, env) ?? 'auto';
  return uid !== 0 && userNamespace() === null && needsNamespace(argv) && (isolation === 'auto' || isolation === 'rootless');
}

/** Refuse a store root another user owns (a missing one is made by the user inside). */
export function checkStoreOwner(root: string, uid: number): void {
  const st = statSync(root, { throwIfNoEntry: false });
  if (!st || st.uid === uid) return;
  let name: string | undefined;
  try {
    name = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(st.uid))?.[0];
  } catch {
    /* no name then */
  }
  const owner = name ? `${name} (uid ${st.uid})` : `uid ${st.uid}`;
  throw new BuildError('TSBUILD_STORE_NOT_OWNED', `the store ${root} belongs to ${owner}, not to you (uid ${uid}); rootless tsbuild keeps its own store: set TSBUILD_ROOT to a directory of yours (default $XDG_DATA_HOME/tsbuild)`);
}

/** Re-execute this tsbuild (same node, same arguments) as root of a new user namespace and return how it ended. */
export async function reexecRootless(env: NodeJS.ProcessEnv): Promise<ChildExit> {
  const uid = process.getuid!();
  const root = defaultStoreRoot(env);
  checkStoreOwner(root, uid);
  const mapping = planMapping(thisHost(env));
  return reexecInUserNamespace({ argv: [process.execPath, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], env: { ...env, TSBUILD_ROOT: root }, mapping });
}
