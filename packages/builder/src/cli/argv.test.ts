import test from 'ava';
import { contextArg, GLOBAL_OPTIONS, RUN_OPTIONS, splitRunArgv, valueFlags } from './argv.js';

const split: Array<[string[], string[], string[]]> = [
  // [argv, yargs sees, the container's arguments]
  [['run', 'busybox', 'ls', '-l'], ['run', 'busybox'], ['ls', '-l']],
  [['--insecure-registry', 'h:5000', 'run', 'busybox', 'echo', 'hello'], ['--insecure-registry', 'h:5000', 'run', 'busybox'], ['echo', 'hello']],
  [['--insecure-registry=h:5000', 'run', 'busybox', 'echo'], ['--insecure-registry=h:5000', 'run', 'busybox'], ['echo']],
  [['--registry-mirror', 'm', '--insecure-registry', 'h', 'run', '-e', 'A=1', 'img', 'sh'], ['--registry-mirror', 'm', '--insecure-registry', 'h', 'run', '-e', 'A=1', 'img'], ['sh']],
  [['run', '--insecure-registry', 'h', 'busybox', 'echo', 'hi'], ['run', '--insecure-registry', 'h', 'busybox'], ['echo', 'hi']],
  [['run', '--rm', '-u', 'app', '--cpus', '0.5', '--pids-limit=4', 'img', '-x'], ['run', '--rm', '-u', 'app', '--cpus', '0.5', '--pids-limit=4', 'img'], ['-x']],
  [['run', '--', 'img', '--help'], ['run', 'img'], ['--help']],
  [['run', '-e', '--', 'img', 'x'], ['run', '-e', '--', 'img'], ['x']],
  // not run: untouched
  [['--insecure-registry', 'run', 'build', '.'], ['--insecure-registry', 'run', 'build', '.'], []],
  [['build', '-t', 'run', '.'], ['build', '-t', 'run', '.'], []],
  [['run'], ['run'], []],
];

for (const [argv, want, container] of split) {
  test(`splitRunArgv ${argv.join(' ')}`, (t) => {
    t.deepEqual(splitRunArgv(argv), { argv: want, containerArgs: container });
  });
}

test('the flags taking a value come from the option definitions', (t) => {
  t.deepEqual([...valueFlags(GLOBAL_OPTIONS)].sort(), ['--insecure-registry', '--registry-mirror']);
  const run = valueFlags(RUN_OPTIONS);
  for (const f of ['-e', '--env', '-v', '--volume', '--tmpfs', '-m', '--memory', '--cpus', '--pids-limit', '--network', '-p', '--publish', '-w', '--workdir', '-u', '--user', '--entrypoint', '--hostname']) t.true(run.has(f), f);
  t.false(run.has('--rm'), 'booleans take no value');
  t.deepEqual([...valueFlags({ a: { type: 'boolean' }, bb: { type: 'array', alias: ['b', 'bee'] } })], ['--bb', '-b', '--bee']);
});

test('contextArg: the - that yargs turns into an empty context', (t) => {
  t.is(contextArg('', ['build', '-q', '-']), '-');
  t.is(contextArg('', ['-']), '-');
  t.is(contextArg('.', ['build', '-f', '-', '.']), '.');
  t.is(contextArg('', ['build', '']), '', 'a really empty context stays empty (an error later)');
});
