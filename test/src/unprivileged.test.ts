/**
 * Builds inside an unprivileged container: `docker run` with docker's default capabilities
 * and seccomp profile (no --privileged, no --cap-add, no --security-opt), where no
 * namespace can be made and nothing mounted, of an image holding node and this project
 * (helpers/docker.ts, made from the project's own files). There tsbuild must notice that
 * its sandbox cannot start, say once which isolation it uses instead, and build
 * Dockerfiles with RUN steps: the busybox fixture and a RUN that chowns and deletes (no
 * network needed), the apt and node workloads (fixtures/unprivileged/: Debian's mirror and
 * the npm registry), and a sample of the differential suite's fixtures. Each result is
 * exported as an OCI archive, loaded into a new store on the host (as root), run there
 * with `tsbuild run`, and the fixtures must pass the same checks as images built on the
 * host (helpers/differential.ts).
 *
 * The store in the container is on the container's own filesystem (docker's overlay2), as
 * it is in a CI job.
 *
 * Skipped where dockerd cannot run at all (.ci/run starts one for this test); the apt and
 * node workloads are skipped when the mirror or the registry cannot be reached.
 */
import test, { type ExecutionContext } from 'ava';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tsbuild, type CliResult } from './helpers/cli.js';
import { debianMirror, debianStore, reachable } from './helpers/debian.js';
import { checkAgainstDocker } from './helpers/differential.js';
import { dockerUnusable, projectImage, runSteps, type Step } from './helpers/docker.js';
import { FIXTURES, fixtureBuildArgs, prepareFixture, removeDir, tempDir } from './helpers/fixtures.js';
import { buildNodeBase, NODE_BASE } from './helpers/node-base.js';

/** Cases of the differential suite built in the container: COPY --chown/--chmod, stages, every config instruction. */
const SAMPLE = ['copy-semantics', 'multistage', 'config-all', 'config-inherit'];
const NPM_REGISTRY = 'https://registry.npmjs.org/ms';
/** Docker's default capability set (CapEff of a `docker run` process without --cap-add). */
const DOCKER_DEFAULT_CAPS = 0xa80425fbn;

/** The container's image, or why this test cannot run here (found once, by the first test). */
let readied: Promise<{ image: string; mirror: string } | { skip: string }> | undefined;
const ready = () =>
  (readied ??= (async () => {
    const why = await dockerUnusable();
    if (why) return { skip: why };
    const mirror = await debianMirror();
    return { image: await projectImage(mirror), mirror };
  })());

async function image(t: ExecutionContext): Promise<{ image: string; mirror: string } | undefined> {
  const r = await ready();
  if ('skip' in r) {
    t.log(`skipped: ${r.skip}`);
    t.pass();
    return undefined;
  }
  return r;
}

/** The lines of a build's output that say which isolation it used instead of the sandbox. */
function isolationNotices(output: string): string[] {
  return output.split('\n').filter((l) => /\bisolation\b.*\bchroot\b/i.test(l) && !/network/i.test(l));
}

function assertBuilt(t: ExecutionContext, what: string, res: CliResult | undefined): void {
  t.truthy(res, `${what}: no result (the container did not run it)`);
  if (!res) return;
  t.is(res.code, 0, `${what}: ${res.stderr.slice(-4000)}`);
  const notices = isolationNotices(res.stderr + res.stdout);
  t.is(notices.length, 1, `${what}: the isolation in use is said once: ${JSON.stringify(notices)}`);
}

/** A new store on the host holding what `archive` holds; its root (removed when `t` ends). */
async function hostStore(t: ExecutionContext, archive: string): Promise<string> {
  const root = join(await tempDir('unpriv-host', t), 'store');
  const res = await tsbuild(['load', '-i', archive], { root });
  t.is(res.code, 0, `tsbuild load -i ${archive}: ${res.stderr}`);
  return root;
}

const build = (tag: string, ctx: string, extra: string[] = []): string[] => ['tsbuild', 'build', '--progress', 'plain', '-t', tag, ...extra, ctx];

// --- no network: the premise, busybox with RUN steps, the fixture sample ----------------------

/** Times clamped, so the same build in the container and on the host gives the same image, bit for bit. */
const EPOCH = ['--build-arg', 'SOURCE_DATE_EPOCH=1000000000'];

const CHOWN_DOCKERFILE = `FROM busybox
RUN mkdir -p /made/sub /data/old && echo made > /made/file && ln -s file /made/link \\
 && chown -R 1000:1000 /made && chmod 0640 /made/file && echo old > /data/old/x
RUN rm /made/link && rm -rf /data && mkdir /data && echo new > /data/new
`;

/** On top of the image above as the sandbox built it (its layers hold a whiteout and an opaque directory). */
const ON_LAYERS_DOCKERFILE = `FROM sandbox-built:test
RUN ls -A /data /made > /listing && rm /made/file
`;

/** fixtures/<name> prepared (prepare.sh) into `dest`, its links as they are. */
async function prepared(name: string, dest: string): Promise<void> {
  const dir = await prepareFixture(name);
  await cp(dir, dest, { recursive: true, verbatimSymlinks: true });
  await removeDir(dir);
}

/** One container for all of these, started by the first test that needs it. */
let offlineRun: ReturnType<typeof runOffline> | undefined;
const offline = () => (offlineRun ??= runOffline());
async function runOffline() {
  const r = await ready();
  if ('skip' in r) return undefined;
  const work = await tempDir('unpriv-offline');
  const ctx = join(work, 'ctx');
  const out = join(work, 'out');
  await mkdir(out, { recursive: true });
  await prepared('busybox', join(ctx, 'busybox'));
  await mkdir(join(ctx, 'run-chown'));
  await writeFile(join(ctx, 'run-chown', 'Dockerfile'), CHOWN_DOCKERFILE);
  await mkdir(join(ctx, 'on-layers'));
  await writeFile(join(ctx, 'on-layers', 'Dockerfile'), ON_LAYERS_DOCKERFILE);
  // The same two builds on the host, in the sandbox, to compare with and to build on.
  const sandboxStore = join(work, 'sandbox-store');
  for (const args of [['-t', 'busybox:latest', join(ctx, 'busybox')], ['-t', 'chowned:test', '-t', 'sandbox-built:test', join(ctx, 'run-chown')]]) {
    const b = await tsbuild(['build', '-q', ...EPOCH, ...args], { root: sandboxStore });
    if (b.code !== 0) throw new Error(`building ${args.at(-1)} on the host: ${b.stderr}`);
  }
  const saved = await tsbuild(['save', 'sandbox-built:test', '-o', join(ctx, 'sandbox-built.tar')], { root: sandboxStore });
  if (saved.code !== 0) throw new Error(`tsbuild save: ${saved.stderr}`);
  const steps: Step[] = [
    { name: 'status', argv: ['cat', '/proc/self/status'] },
    { name: 'unshare', argv: ['unshare', '--mount', 'true'] },
    { name: 'info', argv: ['tsbuild', 'info', '--format', 'json'] },
    { name: 'busybox', argv: build('busybox:latest', '/ctx/busybox', EPOCH) },
    { name: 'sandbox', argv: ['tsbuild', 'build', '--progress', 'plain', '--isolation', 'sandbox', '/ctx/busybox'] },
    { name: 'run-chown', argv: build('chowned:test', '/ctx/run-chown', [...EPOCH, '-o', 'type=oci,dest=/out/chowned.tar']) },
    { name: 'load-layers', argv: ['tsbuild', 'load', '-i', '/ctx/sandbox-built.tar'] },
    { name: 'on-layers', argv: build('on-layers:test', '/ctx/on-layers', ['-o', 'type=oci,dest=/out/on-layers.tar']) },
  ];
  for (const name of SAMPLE) {
    await prepared(name, join(ctx, name));
    const outputs = ['-o', `type=oci,dest=/out/${name}/layout,tar=false`, '-o', `type=oci,dest=/out/${name}/image.tar`];
    steps.push({ name: `fixture-${name}`, argv: build(`fixture-${name}:test`, `/ctx/${name}`, [...(await fixtureBuildArgs(name)), ...outputs]) });
  }
  const started = Date.now();
  const res = await runSteps(r.image, {
    binds: [
      { host: ctx, container: '/ctx', readonly: true },
      { host: out, container: '/out' },
    ],
    env: { TSBUILD_ROOT: '/var/lib/tsbuild-in-container' },
    steps,
  });
  return { ...res, sandboxStore, out, work, seconds: Math.round((Date.now() - started) / 1000) };
}
test.after.always(async () => {
  const o = await offlineRun?.catch(() => undefined);
  if (o) await removeDir(o.work);
});

test('the container is unprivileged: default capabilities, a seccomp filter, no namespaces; the sandbox refuses to start there', async (t) => {
  if (!(await image(t))) return;
  const o = (await offline())!;
  t.log(`the offline container ran in ${o.seconds} s`);
  t.is(o.docker.code, 0, o.docker.stderr);
  const status = o.steps.get('status')!.stdout;
  t.is(BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`), DOCKER_DEFAULT_CAPS, 'docker\'s default capabilities, no more');
  t.is(/^Seccomp:\s*(\d+)$/m.exec(status)?.[1], '2', 'a seccomp filter (docker\'s default profile)');
  const unshare = o.steps.get('unshare')!;
  t.not(unshare.code, 0, 'unshare --mount fails in the container');
  const info = o.steps.get('info')!;
  t.is(info.code, 0, info.stderr);
  const report = JSON.parse(info.code === 0 ? info.stdout : '{}') as { machine?: { namespaces?: { ok: boolean } }; modes?: { sandbox?: { ok: boolean; detail: string } }; auto?: string };
  t.false(report.machine?.namespaces?.ok, 'tsbuild info: no namespaces here');
  t.false(report.modes?.sandbox?.ok, 'tsbuild info: the sandbox cannot start here');
  t.is(report.auto, 'chroot', `tsbuild info: auto picks chroot (${info.stdout})`);
  const sandbox = o.steps.get('sandbox')!;
  t.not(sandbox.code, 0, '--isolation sandbox cannot build there');
  t.regex(sandbox.stderr, /sandbox/i, sandbox.stderr);
  t.notRegex(sandbox.stderr, /^\s+at /m, 'an error, not a stack trace');
});

test('busybox with RUN steps in the container: chown, deletions and a replaced directory; the same image as the sandbox builds on the host', async (t) => {
  if (!(await image(t))) return;
  const o = (await offline())!;
  assertBuilt(t, 'the busybox fixture', o.steps.get('busybox'));
  assertBuilt(t, 'FROM busybox + RUN', o.steps.get('run-chown'));
  const root = await hostStore(t, join(o.out, 'chowned.tar'));
  const res = await tsbuild(['run', 'chowned:test', 'sh', '-c', 'stat -c "%u:%g %a %n" /made /made/sub /made/file; ls -A /data /made; cat /data/new'], { root });
  t.is(res.code, 0, res.stderr);
  t.is(res.stdout, ['1000:1000 755 /made', '1000:1000 755 /made/sub', '1000:1000 640 /made/file', '/data:', 'new', '', '/made:', 'file', 'sub', 'new', ''].join('\n'));

  // The same two builds on the host, in the sandbox: the same layers, the same image.
  const [inContainer, onHost] = await Promise.all([root, o.sandboxStore].map(async (r) => JSON.parse((await tsbuild(['inspect', 'chowned:test'], { root: r })).stdout) as Array<{ Id: string; RootFS: { Layers: string[] } }>));
  t.deepEqual(inContainer![0]!.RootFS.Layers, onHost![0]!.RootFS.Layers, 'the layers (diff ids) equal those the sandbox makes');
  t.is(inContainer![0]!.Id, onHost![0]!.Id, 'the image equals the one the sandbox makes');
});

test('FROM an image whose layers hold a whiteout and an opaque directory: unpacked and built on in the container', async (t) => {
  if (!(await image(t))) return;
  const o = (await offline())!;
  const load = o.steps.get('load-layers')!;
  t.is(load.code, 0, load.stderr);
  assertBuilt(t, 'FROM sandbox-built + RUN', o.steps.get('on-layers'));
  const root = await hostStore(t, join(o.out, 'on-layers.tar'));
  const res = await tsbuild(['run', 'on-layers:test', 'sh', '-c', 'cat /listing; ls -A /made'], { root });
  t.is(res.code, 0, res.stderr);
  t.is(res.stdout, '/data:\nnew\n\n/made:\nfile\nsub\nsub\n');
});

for (const name of SAMPLE) {
  test(`${name}: built in the container, the same image as docker build (the differential suite's checks)`, async (t) => {
    if (!(await image(t))) return;
    const o = (await offline())!;
    const res = o.steps.get(`fixture-${name}`);
    t.truthy(res);
    t.is(res?.code, 0, res?.stderr);
    const dir = join(o.out, name);
    const root = await hostStore(t, join(dir, 'image.tar'));
    await checkAgainstDocker(t, name, { root, tag: `fixture-${name}:test`, archive: join(dir, 'image.tar'), layout: join(dir, 'layout'), layoutRef: 'test', scratch: dir });
  });
}

// --- the workloads: Debian's mirror, the npm registry ---------------------------------------

/** debian:bookworm and node:20 as docker-archives for the container's store (made on the host once). */
let basesMade: Promise<string | undefined> | undefined;
const bases = () => (basesMade ??= makeBases());
async function makeBases(): Promise<string | undefined> {
  const r = await ready();
  if ('skip' in r) return undefined;
  const root = await debianStore(r.mirror);
  const dir = await tempDir('unpriv-bases');
  await buildNodeBase(root);
  for (const [ref, file] of [['debian:bookworm', 'debian.tar'], [NODE_BASE, 'node.tar']] as const) {
    const res = await tsbuild(['save', ref, '-o', join(dir, file)], { root });
    if (res.code !== 0) throw new Error(`tsbuild save ${ref}: ${res.stderr}`);
  }
  await removeDir(join(root, '..'));
  return dir;
}
test.after.always(async () => {
  const dir = await basesMade?.catch(() => undefined);
  if (dir) await removeDir(dir);
});

/** Build fixtures/unprivileged/<name> in a container whose store first loads `base`; the archive's path and the build's result. */
async function workload(t: ExecutionContext, name: string, base: string): Promise<{ archive: string; build: CliResult } | undefined> {
  const img = (await image(t))!;
  const out = await tempDir(`unpriv-${name}`, t);
  const started = Date.now();
  const res = await runSteps(img.image, {
    binds: [
      { host: (await bases())!, container: '/bases', readonly: true },
      { host: join(FIXTURES, 'unprivileged', name), container: '/ctx', readonly: true },
      { host: out, container: '/out' },
    ],
    env: { TSBUILD_ROOT: '/var/lib/tsbuild-in-container' },
    steps: [
      { name: 'load', argv: ['tsbuild', 'load', '-i', `/bases/${base}`] },
      { name: 'build', argv: build(`unpriv-${name}:test`, '/ctx', ['-o', `type=oci,dest=/out/${name}.tar`]) },
    ],
  });
  t.log(`the ${name} container ran in ${Math.round((Date.now() - started) / 1000)} s`);
  t.is(res.docker.code, 0, res.docker.stderr);
  const load = res.steps.get('load')!;
  t.is(load.code, 0, load.stderr);
  const built = res.steps.get('build')!;
  assertBuilt(t, `the ${name} workload`, built);
  return { archive: join(out, `${name}.tar`), build: built };
}

async function needs(t: ExecutionContext, url: string): Promise<boolean> {
  if (await reachable(url)) return true;
  t.log(`${url} is not reachable from this host: skipped`);
  t.pass();
  return false;
}

test("the apt workload: apt-get install in the container's RUN step; the image runs on the host", async (t) => {
  const img = await image(t);
  if (!img || !(await needs(t, `${img.mirror}/dists/bookworm/Release`))) return;
  const built = await workload(t, 'apt', 'debian.tar');
  if (!built || built.build.code !== 0) return;
  t.regex(built.build.stderr + built.build.stdout, /Setting up jq/, 'apt-get installed jq');
  const root = await hostStore(t, built.archive);
  const res = await tsbuild(['run', 'unpriv-apt:test'], { root });
  t.is(res.code, 0, res.stderr);
  t.regex(res.stdout, /^jq: jq-1\.\d+/m);
  t.regex(res.stdout, /^curl: curl \d+\.\d+/m);
  t.regex(res.stdout, /^xz: xz \(XZ Utils\) \d/m);
  t.regex(res.stdout, /^app: ok$/m);
  const more = await tsbuild(['run', 'unpriv-apt:test', 'sh', '-c', 'stat -c "%u:%g %a" /app/app.sh /usr/bin/jq; ps --version'], { root });
  t.is(more.code, 0, more.stderr);
  t.regex(more.stdout, /^0:0 755\n0:0 755\nps from procps-ng \d/, more.stderr);
});

test('the node workload: npm ci, tsc and a self-test in the container; only production modules in the image, which runs on the host', async (t) => {
  const img = await image(t);
  if (!img || !(await needs(t, NPM_REGISTRY))) return;
  const built = await workload(t, 'node', 'node.tar');
  if (!built || built.build.code !== 0) return;
  t.regex(built.build.stderr + built.build.stdout, /selftest ok \(1\.0\.0\)/);
  const root = await hostStore(t, built.archive);
  const res = await tsbuild(['run', 'unpriv-node:test'], { root });
  t.is(res.code, 0, res.stderr);
  t.is(res.stdout, 'service 1.0.0; budgets request: 2 seconds; cache: 2 minutes; job: 2 hours\n');
  const files = await tsbuild(['run', 'unpriv-node:test', 'sh', '-c', 'ls node_modules dist; node dist/index.js --selftest'], { root });
  t.is(files.code, 0, files.stderr);
  t.is(files.stdout, 'dist:\nbudget.js\nindex.js\nversion.js\n\nnode_modules:\nms\nselftest ok (1.0.0)\n');
});
