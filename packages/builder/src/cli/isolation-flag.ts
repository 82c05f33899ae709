/**
 * `--isolation auto|sandbox|chroot` of `build` and `run`, and $TSBUILD_ISOLATION when the
 * flag is not given: how RUN steps and containers are isolated (the executor's
 * isolation.ts). A value outside the list is a usage error naming where it came from.
 */
import { ISOLATIONS, type Isolation } from '@tsbuild/executor';
import type { Options } from 'yargs';
import { UsageError } from '../errors.js';

export const ISOLATION_ENV = 'TSBUILD_ISOLATION';

export const ISOLATION_OPTION = {
  isolation: {
    type: 'string',
    describe: 'How commands are isolated: auto (the sandbox where it can start, else chroot; the default, or $TSBUILD_ISOLATION), sandbox or chroot',
  },
} as const satisfies Record<string, Options>;

export function parseIsolation(flag: unknown, env: NodeJS.ProcessEnv): Isolation {
  const given = flag === undefined ? undefined : Array.isArray(flag) ? String(flag.at(-1)) : String(flag);
  const value = given ?? env[ISOLATION_ENV] ?? 'auto';
  if ((ISOLATIONS as readonly string[]).includes(value)) return value as Isolation;
  const where = given !== undefined ? '--isolation' : `$${ISOLATION_ENV}`;
  throw new UsageError(`${where} ${JSON.stringify(value)}: want ${ISOLATIONS.slice(0, -1).join(', ')} or ${ISOLATIONS.at(-1)}`);
}
