/**
 * The config steps as pure functions, state in, state out: no store, no executor.
 * Each instruction changes the config and adds docker's history line (empty_layer).
 */
import test from 'ava';
import { BuildError } from '../errors.js';
import { parse, type Instruction } from '../dockerfile/instructions/index.js';
import { ShellLex } from '../dockerfile/shell-lex.js';
import { scratchState, type StageState } from '../solve/state.js';
import type { ConfigStepContext } from './context.js';
import { applyStep } from './index.js';

const noRoot = () => {
  throw new Error('a config step asked for a filesystem context');
};

function context(buildArgs: Record<string, string> = {}, globals: Record<string, string> = {}): ConfigStepContext & { used: Set<string> } {
  const used = new Set<string>();
  return {
    used,
    lex: new ShellLex('\\'),
    buildArg: (name) => {
      if (!(name in buildArgs)) return undefined;
      used.add(name);
      return buildArgs[name];
    },
    globalArg: (name) => (name in globals ? { value: globals[name] } : undefined),
  };
}

/** The instructions after FROM, applied in order to a scratch state. */
async function apply(dockerfile: string, ctx: ConfigStepContext = context()): Promise<StageState> {
  const instructions: Instruction[] = parse(`FROM scratch\n${dockerfile}`).instructions.slice(1);
  let state = scratchState({ os: 'linux', architecture: 'amd64' });
  for (const ins of instructions) state = await applyStep(state, ins, { config: () => ctx, fs: noRoot, run: noRoot });
  return state;
}

const createdBy = (s: StageState) => (s.config.history ?? []).map((h) => h.created_by);

test('ENV and LABEL expand against the state before the instruction (as docker: not a pair of the same line); history shows the expanded pairs', async (t) => {
  const s = await apply('ENV A=1 B=${A}2\nENV C=${A}3\nLABEL v=$B$C\n');
  t.deepEqual(s.config.config?.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'B=2', 'C=13']);
  t.deepEqual(s.config.config?.Labels, { v: '213' });
  t.deepEqual(createdBy(s), ['ENV A=1 B=2', 'ENV C=13', 'LABEL v=213']);
  t.true((s.config.history ?? []).every((h) => h.empty_layer === true && h.comment === 'buildkit.dockerfile.v0'));
  t.is(s.layers.length, 0);
});

test('ARG: a build arg wins over the default, a global ARG gives a value to a bare one, and the build arg is marked used', async (t) => {
  const ctx = context({ A: 'cli' }, { G: 'global' });
  const s = await apply('ARG A=default\nARG G\nARG NONE\n', ctx);
  t.is(s.args.get('A'), 'cli');
  t.is(s.args.get('G'), 'global');
  t.true(s.args.has('NONE'));
  t.is(s.args.get('NONE'), undefined);
  t.deepEqual([...ctx.used], ['A']);
  t.deepEqual(createdBy(s), ['ARG A=default', 'ARG G', 'ARG NONE']);
  t.is(s.config.config?.Env?.length, 1, 'ARGs are not ENV');
});

test('EXPOSE, VOLUME, STOPSIGNAL and USER write the config and Go-formatted history like docker', async (t) => {
  const s = await apply('EXPOSE 80 53/udp 8000-8001\nVOLUME /data /logs\nSTOPSIGNAL SIGTERM\nUSER app:staff\n');
  t.deepEqual(Object.keys(s.config.config?.ExposedPorts ?? {}).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
  t.deepEqual(s.config.config?.Volumes, { '/data': {}, '/logs': {} });
  t.is(s.config.config?.StopSignal, 'SIGTERM');
  t.is(s.config.config?.User, 'app:staff');
  t.deepEqual(createdBy(s), ['EXPOSE map[53/udp:{} 80/tcp:{} 8000/tcp:{} 8001/tcp:{}]', 'VOLUME [/data /logs]', 'STOPSIGNAL SIGTERM', 'USER app:staff']);
});

test('a bad port or signal is an error naming the line', async (t) => {
  for (const [df, message] of [
    ['EXPOSE 99999\n', /Dockerfile:2: EXPOSE: invalid port "99999"/],
    ['STOPSIGNAL SIGNOPE\n', /Dockerfile:2: STOPSIGNAL: invalid signal "SIGNOPE"/],
  ] as const) {
    const err = await t.throwsAsync(apply(df), { instanceOf: BuildError });
    t.regex(err!.toString(), message);
  }
});

test('CMD and ENTRYPOINT: the shell form goes through SHELL; ENTRYPOINT resets a CMD this stage did not set', async (t) => {
  const s = await apply('SHELL ["/bin/bash", "-c"]\nCMD echo hi\n');
  t.deepEqual(s.config.config?.Cmd, ['/bin/bash', '-c', 'echo hi']);
  t.true(s.cmdSet);
  const inherited = await apply('CMD ["a"]\nENTRYPOINT ["e"]\n');
  t.deepEqual(inherited.config.config?.Cmd, ['a'], 'CMD set in this stage stays');
  const reset = await applyStep({ ...inherited, cmdSet: false }, parse('FROM scratch\nENTRYPOINT ["f"]\n').instructions[1]!, { config: () => context(), fs: noRoot, run: noRoot });
  t.is(reset.config.config?.Cmd, undefined, 'an inherited CMD goes');
  t.deepEqual(createdBy(inherited).slice(-1), ['ENTRYPOINT ["e"]']);
});

test('ONBUILD records its trigger without a history entry; MAINTAINER sets the author', async (t) => {
  const s = await apply('ONBUILD RUN make\nMAINTAINER Ann <a@example.com>\n');
  t.deepEqual(s.config.config?.OnBuild, ['RUN make']);
  t.is(s.config.author, 'Ann <a@example.com>');
  t.deepEqual(createdBy(s), ['MAINTAINER Ann <a@example.com>']);
});
