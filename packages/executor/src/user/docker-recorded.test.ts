/**
 * Every case docker answered in fixtures/users/docker-recorded.json (fixtures/users/record.sh)
 * through the resolver: `docker run --user`, a build's USER + RUN, `COPY --chown` and a
 * WORKDIR made under USER, each compared with what docker showed or the error it gave.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { resolveBuildRunUser, resolveChown, resolveRunUser, UserResolutionError, type UserFiles } from './index.js';

type Answer = { uid: number; gid: number; groups?: number[]; home?: string | null } | { error: string };
interface Case {
  variant: string;
  spec: string;
  dockerRun: Answer;
  buildRun: Answer;
  copyChown: Answer;
  workdir: Answer;
}
interface Recording {
  variants: Record<string, UserFiles>;
  cases: Case[];
}

// Tests run from dist/user/; the fixtures are at the repository root.
const recording = JSON.parse(readFileSync(new URL('../../../../fixtures/users/docker-recorded.json', import.meta.url), 'utf8')) as Recording;
type Mechanism = 'dockerRun' | 'buildRun' | 'copyChown' | 'workdir';

/**
 * Our error in docker's words where ours says more: a missing file is "invalid argument" to
 * BuildKit's RUN and a failed open to its --chown; runc's init refusing ids at a build's
 * RUN only shows as the command's exit status.
 */
function asDocker(mechanism: Mechanism, err: UserResolutionError): string {
  const file = /the image has no (\S+)$/.exec(err.message)?.[1];
  if (err.code === 'TSBUILD_USER_FILE_MISSING' && mechanism === 'buildRun') return err.message.replace(/: the image has no \S+$/, ': invalid argument');
  if (err.code === 'TSBUILD_USER_FILE_MISSING') return `open ${file}: no such file or directory`;
  if (mechanism === 'buildRun' && err.message.startsWith('unable to setup user: ')) return 'exit code: 1';
  return err.message;
}

function ours(mechanism: Mechanism, spec: string, files: UserFiles): Answer {
  try {
    if (mechanism === 'dockerRun' || mechanism === 'buildRun') {
      const u = (mechanism === 'dockerRun' ? resolveRunUser : resolveBuildRunUser)(spec, files);
      return { uid: u.uid, gid: u.gid, groups: [...u.groups].sort((a, b) => a - b), home: u.home };
    }
    return resolveChown(spec, files);
  } catch (err) {
    if (!(err instanceof UserResolutionError)) throw err;
    return { error: asDocker(mechanism, err) };
  }
}

function docker(answer: Answer): Answer {
  if ('error' in answer) return { error: answer.error };
  return answer.groups ? { ...answer, groups: [...answer.groups].sort((a, b) => a - b) } : answer;
}

test('the recording covers every mechanism of every variant', (t) => {
  t.deepEqual(Object.keys(recording.variants).sort(), ['absent', 'empty', 'main', 'nogroup']);
  t.true(recording.cases.length >= 70);
});

for (const c of recording.cases) {
  test(`${c.variant}: ${JSON.stringify(c.spec)} as docker resolved it`, (t) => {
    const files = recording.variants[c.variant]!;
    const mechanisms: Mechanism[] = ['dockerRun', 'buildRun', 'copyChown', 'workdir'];
    t.deepEqual(
      Object.fromEntries(mechanisms.map((m) => [m, ours(m, c.spec, files)])),
      Object.fromEntries(mechanisms.map((m) => [m, docker(c[m])])),
    );
  });
}
