/** Why a user spec could not be resolved; the messages are docker's where docker has one. */
import { ExecutorError } from '../errors.js';

export type UserErrorCode = 'TSBUILD_USER_UNKNOWN' | 'TSBUILD_GROUP_UNKNOWN' | 'TSBUILD_USER_ID_RANGE' | 'TSBUILD_USER_FILE_MISSING';

export class UserResolutionError extends ExecutorError {
  declare readonly code: UserErrorCode;
  constructor(code: UserErrorCode, message: string) {
    super(code, message);
    this.name = 'UserResolutionError';
  }
}

/** runc's limit for an id that is not in the files (for 32-bit hosts' sake). */
export const MAX_FREE_ID = 2 ** 31 - 1;

export const unknownUser = (user: string) => new UserResolutionError('TSBUILD_USER_UNKNOWN', `unable to find user ${user}: no matching entries in passwd file`);
export const unknownGroup = (group: string) => new UserResolutionError('TSBUILD_GROUP_UNKNOWN', `unable to find group ${group}: no matching entries in group file`);
export const idRange = () => new UserResolutionError('TSBUILD_USER_ID_RANGE', `uids and gids must be in range 0-${MAX_FREE_ID}`);

/** `what` is docker's own phrase: "user NAME", "group NAME" or "groups for spec NAME". */
export const fileMissing = (what: string, file: '/etc/passwd' | '/etc/group') => new UserResolutionError('TSBUILD_USER_FILE_MISSING', `unable to find ${what}: the image has no ${file}`);
