/** Rootless tsbuild: the checks before, the re-exec into a user namespace, and what is known inside. */
export { RootlessError, type RootlessMissing } from './errors.js';
export { userNamespace, type IdRange, type UserNamespace } from './namespace.js';
export { checkUserNamespaces, MIN_SUBIDS, planMapping, thisHost, type Host, type Mapping } from './preflight.js';
export { PARENT_ENV, reexecInUserNamespace, watchRootlessParent, type ChildExit, type ReexecOptions } from './reexec.js';
