import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$TSBUILD_ROOT`, else `/var/lib/tsbuild` for root, else `$XDG_DATA_HOME/tsbuild` (~/.local/share/tsbuild). */
export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TSBUILD_ROOT) return env.TSBUILD_ROOT;
  if (process.getuid?.() === 0) return '/var/lib/tsbuild';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'tsbuild');
}
