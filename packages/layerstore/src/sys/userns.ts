/**
 * Whether this process runs in the initial user namespace, from /proc/self/uid_map (the
 * initial one maps all 2^32 ids onto themselves). Rootless tsbuild runs as root of a user
 * namespace of its own, where getuid() is 0 but device nodes cannot be made and trusted.*
 * xattrs cannot be set. Read once.
 */
import { readFileSync } from 'node:fs';

let initial: boolean | undefined;

export function inInitialUserNamespace(): boolean {
  if (initial !== undefined) return initial;
  let map: string;
  try {
    map = readFileSync('/proc/self/uid_map', 'utf8');
  } catch {
    return (initial = true); // no /proc: nothing says otherwise
  }
  const lines = map.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  return (initial = lines.length === 1 && lines[0] === '0 0 4294967295');
}
