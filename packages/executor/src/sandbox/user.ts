/**
 * The user the sandbox runs its command as. A spec string is resolved like `docker run
 * --user` (../user/); numeric ids are taken as given, with HOME as runc's init finds it.
 * The worker reads the files inside the pivoted root and passes their text in.
 */
import type { UserSpec } from '../types.js';
import { homeOf, resolveRunUser, type ResolvedUser, type UserFiles } from '../user/index.js';

export type { ResolvedUser };

export function processUser(spec: UserSpec, files: UserFiles): ResolvedUser {
  if (typeof spec === 'string') return resolveRunUser(spec, files);
  return { uid: spec.uid, gid: spec.gid, groups: spec.groups ? [...spec.groups] : [], home: homeOf(spec.uid, files.passwd) };
}
