/**
 * /etc/passwd and /etc/group read the way runc's libcontainer/user reads them, which is what
 * dockerd and BuildKit use (fixtures/users/docker-recorded.json shows each rule):
 * - every line is trimmed of blanks and blank lines are skipped; a passwd line is never a
 *   comment (`#name:...` is a user called `#name`), a group line starting with `#` is;
 * - short lines are entries too: the missing fields are empty (home "") or 0 (ids);
 * - an id that is not a number is 0 (`x:x:abc:5` is uid 0), not a reason to skip the line.
 */

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  /** "" when the field is empty or missing (then HOME is set to ""). */
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** The two files' text as found in the root; `null` for a file that is not there. */
export interface UserFiles {
  passwd: string | null;
  group: string | null;
}

const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.Atoi on a 64-bit host: an optional sign and decimal digits within int64. */
export function goAtoi(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > INT64_MAX || n < -INT64_MAX - 1n ? undefined : Number(n);
}

function lines(text: string | null, comments: boolean): string[][] {
  if (text === null) return [];
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !(comments && l.startsWith('#')))
    .map((l) => l.split(':'));
}

export function parsePasswd(text: string | null): PasswdEntry[] {
  return lines(text, false).map((f) => ({ name: f[0]!, uid: goAtoi(f[2] ?? '') ?? 0, gid: goAtoi(f[3] ?? '') ?? 0, home: f[5] ?? '' }));
}

export function parseGroup(text: string | null): GroupEntry[] {
  return lines(text, true).map((f) => ({ name: f[0]!, gid: goAtoi(f[2] ?? '') ?? 0, members: f[3] ? f[3].split(',') : [] }));
}
