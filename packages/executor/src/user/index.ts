/**
 * One resolver of user specs against an image's /etc/passwd and /etc/group, pure (the
 * caller reads the files), following docker wherever docker was asked
 * (fixtures/users/record.sh): `docker run`, a build's RUN, and a build's --chown/WORKDIR.
 */
export { parseGroup, parsePasswd, type GroupEntry, type PasswdEntry, type UserFiles } from './files.js';
export { homeOf, resolveBuildRunUser, resolveRunUser, type ResolvedUser } from './run-user.js';
export { resolveChown, type ResolvedOwner } from './chown.js';
export { UserResolutionError, type UserErrorCode } from './errors.js';
