/** Arguments mean what they say: global flags anywhere, `build -`, `--platform`, parser directives. */
import test from 'ava';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { compressor } from '@tsbuild/layerstore';
import { run, tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { exists, removeDir, tempDir } from './helpers/fixtures.js';
import { buildah, busyboxImage } from './helpers/buildah.js';

test('global flags before or after the command word keep the container command', async (t) => {
  const root = await busyboxStore(t);
  for (const args of [
    ['--insecure-registry', 'registry.lan:5000', 'run', 'busybox', 'echo', 'hello'],
    ['--insecure-registry=registry.lan:5000', '--registry-mirror', 'mirror.lan', 'run', 'busybox', 'echo', 'hello'],
    ['run', '--insecure-registry', 'registry.lan:5000', 'busybox', 'echo', 'hello'],
    ['--registry-mirror', 'mirror.lan', 'run', '-e', 'X=1', 'busybox', 'echo', 'hello'],
  ]) {
    const res = await tsbuild(args, { root });
    t.is(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
    t.is(res.stdout, 'hello\n', args.join(' '));
  }
});

/** A context directory: f.txt, an ignored secret, a Dockerfile and sub/Other.df. */
async function contextDir(): Promise<string> {
  const dir = await tempDir('stdin-ctx');
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'f.txt'), 'data\n');
  await writeFile(join(dir, 'secret.txt'), 'no\n');
  await writeFile(join(dir, '.dockerignore'), 'secret.txt\n');
  await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY . /ctx/\nCMD ["sh", "-c", "cat /ctx/f.txt; ls /ctx"]\n');
  await writeFile(join(dir, 'sub', 'Other.df'), 'FROM busybox\nCOPY f.txt /other\nCMD ["cat", "/other"]\n');
  return dir;
}

async function tarOf(dir: string): Promise<Buffer> {
  return Buffer.from((await runBinary('tar', ['-C', dir, '-cf', '-', '.'])));
}

function runBinary(cmd: string, args: string[], input?: Buffer): Promise<Buffer> {
  return import('node:child_process').then(({ spawn }) => new Promise<Buffer>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'inherit'] });
    const out = buffer(child.stdout!);
    if (input) child.stdin!.end(input);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? out.then(resolve, reject) : reject(new Error(`${cmd} exited ${code}`))));
  }));
}

test('build - < Dockerfile: no context; COPY of a context file is a clear error', async (t) => {
  const root = await busyboxStore(t);
  const ok = await tsbuild(['build', '-q', '-t', 'from-stdin:1', '-'], { root, stdin: 'FROM busybox\nCMD ["echo", "no context"]\n' });
  t.is(ok.code, 0, ok.stderr);
  t.is((await tsbuild(['run', 'from-stdin:1'], { root })).stdout, 'no context\n');
  const copy = await tsbuild(['build', '-q', '-'], { root, stdin: 'FROM busybox\nCOPY f.txt /\n' });
  t.is(copy.code, 1);
  t.regex(copy.stderr, /^ERROR: Dockerfile:2: COPY source not found: f\.txt/m);
  t.deepEqual(await readdir(join(root, 'tmp')), [], 'what stdin held is removed');
});

test('build - < context.tar (plain, gzip, bzip2, xz, zstd): the archive is the context, -f names a file inside it', async (t) => {
  const root = await busyboxStore();
  const ctx = await contextDir();
  try {
    const tar = await tarOf(ctx);
    const forms: Array<[string, Buffer]> = [
      ['tar', tar],
      ['tar.gz', gzipSync(tar)],
      ['tar.bz2', await runBinary('bzip2', ['-c'], tar)],
      ['tar.xz', await runBinary('xz', ['-c'], tar)],
      ['tar.zst', await buffer(Readable.from([tar]).pipe(compressor('zstd')))],
    ];
    for (const [name, bytes] of forms) {
      const res = await tsbuild(['build', '-q', '-t', `ctx:${name.replace(/\./g, '-')}`, '-'], { root, stdin: bytes });
      t.is(res.code, 0, `${name}: ${res.stderr}`);
      const out = await tsbuild(['run', `ctx:${name.replace(/\./g, '-')}`], { root });
      t.is(out.stdout, 'data\nDockerfile\nf.txt\nsub\n', `${name}: the context's files, .dockerignore honoured`);
    }
    const other = await tsbuild(['build', '-q', '-t', 'ctx:other', '-f', 'sub/Other.df', '-'], { root, stdin: tar });
    t.is(other.code, 0, other.stderr);
    t.is((await tsbuild(['run', 'ctx:other'], { root })).stdout, 'data\n');
    const missing = await tsbuild(['build', '-q', '-f', 'nope.df', '-'], { root, stdin: tar });
    t.is(missing.code, 1);
    t.regex(missing.stderr, /-f nope\.df: no such file in the build context archive on stdin/);
    t.deepEqual(await readdir(join(root, 'tmp')), []);
  } finally {
    await removeDir(ctx);
    await removeDir(join(root, '..'));
  }
});

test('an archive on stdin cannot write outside its directory', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('stdin-evil', t);
  const outside = join(work, 'escaped');
  // GNU tar keeps a leading ../ with -P; the entry climbs to `outside`.
  await mkdir(join(work, 'src', 'a'), { recursive: true });
  await writeFile(join(work, 'src', 'Dockerfile'), 'FROM busybox\n');
  await writeFile(outside, 'original');
  const evil = await runBinary('tar', ['-C', join(work, 'src', 'a'), '-P', '-cf', '-', '../Dockerfile', '../../escaped']);
  const res = await tsbuild(['build', '-q', '-'], { root, stdin: evil });
  t.is(res.code, 1);
  t.regex(res.stderr, /build context archive on stdin: .*climbs out of the root/);
  t.is((await run('cat', [outside])).stdout, 'original');
  t.false(await exists(join(root, 'escaped')));
  t.deepEqual(await readdir(join(root, 'tmp')), []);
});

test('-f - takes the Dockerfile from stdin with a directory context; with build - it is a usage error', async (t) => {
  const root = await busyboxStore();
  const ctx = await contextDir();
  try {
    const res = await tsbuild(['build', '-q', '-t', 'df-stdin:1', '-f', '-', ctx], { root, stdin: 'FROM busybox\nCOPY f.txt /g\nCMD ["cat", "/g"]\n' });
    t.is(res.code, 0, res.stderr);
    t.is((await tsbuild(['run', 'df-stdin:1'], { root })).stdout, 'data\n');
    const both = await tsbuild(['build', '-f', '-', '-'], { root, stdin: 'FROM busybox\n' });
    t.is(both.code, 2);
    t.regex(both.stderr, /stdin cannot be both the context and the Dockerfile/);
  } finally {
    await removeDir(ctx);
    await removeDir(join(root, '..'));
  }
});

test('a URL or git context is a clear "not supported yet", not a missing path', async (t) => {
  const root = await tempDir('remote-ctx', t);
  for (const [ctx, kind] of [
    ['https://github.com/docker/buildx.git', 'git repositories'],
    ['https://github.com/docker/buildx.git#v0.1.0:sub', 'git repositories'],
    ['git@github.com:docker/buildx.git', 'git repositories'],
    ['git://example.com/repo', 'git repositories'],
    ['github.com/docker/buildx', 'git repositories'],
    ['https://example.com/context.tar.gz', 'URLs'],
    ['http://example.com/Dockerfile', 'URLs'],
  ]) {
    const res = await tsbuild(['build', ctx!], { root });
    t.is(res.code, 1, ctx);
    t.regex(res.stderr, new RegExp(`remote contexts \\(${kind}\\) are not supported yet`), ctx);
    t.notRegex(res.stderr, /ENOENT|not a directory|does not exist/, ctx);
  }
});

/** This machine's platform as docker names it, and one it is not. */
const HOST_ARCH = process.arch === 'x64' ? 'amd64' : process.arch;
const FOREIGN = HOST_ARCH === 'amd64' ? 'linux/arm64' : 'linux/amd64';

const TARGET_DOCKERFILE = [
  'FROM busybox',
  'ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM',
  'RUN echo "$TARGETPLATFORM $TARGETOS $TARGETARCH [$TARGETVARIANT] $BUILDPLATFORM" > /target',
  'CMD ["cat", "/target"]',
].join('\n');

test('--platform: the host (however written) builds, and TARGET* agree with the image config', async (t) => {
  const root = await busyboxStore(t);
  const ctx = await tempDir('platform', t);
  await writeFile(join(ctx, 'Dockerfile'), TARGET_DOCKERFILE);
  const spellings = HOST_ARCH === 'amd64' ? ['linux/amd64', 'linux/x86_64', 'x86_64', 'linux'] : [`linux/${HOST_ARCH}`, 'linux'];
  for (const p of [undefined, ...spellings]) {
    const res = await tsbuild(['build', '-q', '-t', 'plat:1', ...(p ? ['--platform', p] : []), ctx], { root });
    t.is(res.code, 0, `${p}: ${res.stderr}`);
    const [img] = JSON.parse((await tsbuild(['inspect', 'plat:1'], { root })).stdout) as Array<{ Os: string; Architecture: string; Variant?: string }>;
    const config = `${img!.Os}/${img!.Architecture}${img!.Variant ? `/${img!.Variant}` : ''}`;
    const said = (await tsbuild(['run', 'plat:1'], { root })).stdout;
    t.is(said, `${config} ${img!.Os} ${img!.Architecture} [${img!.Variant ?? ''}] ${config}\n`, `${p}: TARGET* are the config's platform`);
    t.is(img!.Architecture, HOST_ARCH);
  }
});

test('--platform: another platform, a list or a malformed value is a usage error naming the flag', async (t) => {
  const root = await busyboxStore(t);
  const ctx = await tempDir('platform-bad', t);
  await writeFile(join(ctx, 'Dockerfile'), TARGET_DOCKERFILE);
  for (const [p, why] of [
    [FOREIGN, /cross-platform builds are not supported yet/],
    [`linux/${HOST_ARCH},${FOREIGN}`, /multi-platform builds are not supported yet/],
    ['foo/bar', /unknown operating system "foo"/],
    ['linux/amd64/v2/x', /expected OS\/ARCH\[\/VARIANT\]/],
  ] as const) {
    const res = await tsbuild(['build', '-q', '--platform', p, '-t', 'never:1', ctx], { root });
    t.is(res.code, 2, `${p}: ${res.stderr}`);
    t.regex(res.stderr, new RegExp(`--platform ${p.replace(/[/\\]/g, '\\$&')}: `), p);
    t.regex(res.stderr, why, p);
  }
  t.is((await tsbuild(['inspect', 'never:1'], { root })).code, 1, 'nothing was built');
});

test('FROM --platform: $BUILDPLATFORM and the host build; another platform or a base image made for one is an error naming the line', async (t) => {
  const root = await busyboxStore(t);
  const ctx = await tempDir('from-platform', t);
  await writeFile(join(ctx, 'Dockerfile'), `FROM --platform=$BUILDPLATFORM busybox AS a\nFROM --platform=\${TARGETPLATFORM} a\n${TARGET_DOCKERFILE.split('\n').slice(1).join('\n')}\n`);
  const ok = await tsbuild(['build', '-q', '-t', 'fromplat:1', ctx], { root });
  t.is(ok.code, 0, ok.stderr);
  t.regex((await tsbuild(['run', 'fromplat:1'], { root })).stdout, new RegExp(`^linux/${HOST_ARCH}`));

  await writeFile(join(ctx, 'Dockerfile'), `FROM busybox\nRUN true\nFROM --platform=${FOREIGN} scratch\n`);
  const foreign = await tsbuild(['build', '-q', ctx], { root });
  t.is(foreign.code, 1);
  t.regex(foreign.stderr, new RegExp(`Dockerfile:3: FROM --platform=${FOREIGN.replace('/', '\\/')}: cross-platform and multi-platform builds are not supported yet`));

  await writeFile(join(ctx, 'Dockerfile'), 'FROM --platform=foo/bar scratch\n');
  const bad = await tsbuild(['build', '-q', ctx], { root });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /Dockerfile:1: FROM --platform=foo\/bar: unknown operating system "foo"/);

  // A base image made for another architecture (buildah can say so).
  const b = buildah(join(ctx, 'buildah'));
  await busyboxImage(b, 'foreign:1', 'x');
  const c = await b(['from', 'foreign:1']);
  await b(['config', '--arch', FOREIGN.split('/')[1]!, c]);
  await b(['commit', '-q', c, 'foreign:2']);
  await b(['rm', c]);
  await b(['push', '-q', 'foreign:2', `oci-archive:${ctx}/foreign.tar`]);
  await writeFile(join(ctx, 'Dockerfile'), `FROM oci-archive:${ctx}/foreign.tar\nCMD ["x"]\n`);
  const base = await tsbuild(['build', '-q', ctx], { root });
  t.is(base.code, 1);
  t.regex(base.stderr, new RegExp(`Dockerfile:1: base image ".*foreign.tar" is for ${FOREIGN.replace('/', '\\/')}, but this build is for linux\\/${HOST_ARCH}`));
});

test('# syntax= naming another frontend and # check= warn once with their line; docker/dockerfile does not', async (t) => {
  const ctx = await tempDir('directives', t);
  await writeFile(join(ctx, 'Dockerfile'), '# syntax=example.com/team/frontend:v1\n# check=skip=all;error=true\nFROM scratch\nLABEL a=b\n');
  const res = await tsbuild(['build', '--progress', 'plain', ctx], { root: join(ctx, 'store') });
  t.is(res.code, 0, res.stderr);
  const warnings = res.stderr.split('\n').filter((l) => l.startsWith('WARNING'));
  t.deepEqual(warnings, [
    'WARNING: Dockerfile:1: # syntax=example.com/team/frontend:v1: tsbuild does not run other frontends; this Dockerfile is read as docker/dockerfile:1 (the directive is ignored)',
    'WARNING: Dockerfile:2: # check=skip=all;error=true: build checks are not implemented yet; the directive is ignored',
  ]);
  await writeFile(join(ctx, 'Dockerfile'), '# syntax=docker/dockerfile:1.4\nFROM scratch\nLABEL a=b\n');
  const own = await tsbuild(['build', '--progress', 'plain', ctx], { root: join(ctx, 'store') });
  t.is(own.code, 0, own.stderr);
  t.notRegex(own.stderr, /WARNING/);
});
