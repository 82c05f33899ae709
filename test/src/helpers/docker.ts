/**
 * dockerd, for the unprivileged-container test (unprivileged.test.ts) only: whether one
 * answers, an image holding node and this project made from the project's own files (no
 * pull), and commands run in it by `docker run` with docker's defaults: its default
 * capabilities and seccomp profile, no `--privileged`, no `--cap-add`, no `--security-opt`.
 *
 * The image is `docker import` of one tar stream: the debootstrapped Debian root the tests
 * already cache (debian.ts), the host's node binary, and this checkout (package.json,
 * node_modules, each package's package.json and dist) under /opt/tsbuild, with `tsbuild` on
 * PATH. Its tag is a digest of what went in, so a rerun reuses it and a rebuild replaces it.
 *
 * The Debian docker.io client at /usr/bin/docker is used by path: another `docker` earlier
 * on PATH (one without BuildKit, say) may not be the daemon's own.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, run, type CliResult } from './cli.js';
import { debianRootfs } from './debian.js';
import { removeDir, tempDir } from './fixtures.js';

export const DOCKER = '/usr/bin/docker';
const IMAGE_REPO = 'tsbuild-unprivileged-test';
/** Where the checkout is in the image. */
export const PROJECT_IN_IMAGE = '/opt/tsbuild';
/** Changing how the image is made: bump this, so no image made the old way is reused. */
const RECIPE = 'tsbuild-unprivileged-image/1';
const PACKAGES = ['errors', 'layerstore', 'executor', 'builder'];

/** Why no dockerd can be used here (the test is then skipped), or undefined when one answers. */
export async function dockerUnusable(): Promise<string | undefined> {
  const res = await run(DOCKER, ['info', '--format', '{{.ServerVersion}}'], { allowFail: true }).catch((err: unknown) => ({ code: -1, stdout: '', stderr: String(err) }) as CliResult);
  if (res.code === 0 && res.stdout.trim() !== '') return undefined;
  return `no usable dockerd (${DOCKER} info: ${(res.stderr || res.stdout).trim().split('\n').slice(-1)[0] ?? `exit ${res.code}`}); .ci/run installs Debian's docker.io and starts dockerd`;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Every regular file under `dir` (relative paths, sorted); symlinks are listed as themselves. */
async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, r)));
    else out.push(r);
  }
  return out;
}

/** What of the checkout goes into the image, relative to it. */
const PROJECT_ENTRIES = ['package.json', 'package-lock.json', 'node_modules', ...PACKAGES.flatMap((p) => [`packages/${p}/package.json`, `packages/${p}/dist`])];

/**
 * The content key: the recipe, the Debian root (its package database), the node binary,
 * the dependency tree (npm's record of node_modules), and every file of the packages' dist.
 */
async function imageKey(rootfs: string, node: string): Promise<string> {
  const h = createHash('sha256');
  h.update(`${RECIPE}\n`);
  h.update(`dpkg ${await sha256File(join(rootfs, 'var/lib/dpkg/status'))}\n`);
  h.update(`node ${await sha256File(node)}\n`);
  h.update(`node_modules ${await sha256File(join(REPO, 'node_modules/.package-lock.json'))}\n`);
  for (const e of PROJECT_ENTRIES) {
    if (e === 'node_modules') continue;
    const files = e.endsWith('/dist') ? (await filesUnder(join(REPO, e))).map((f) => `${e}/${f}`) : [e];
    for (const f of files) h.update(`${f} ${await sha256File(join(REPO, f))}\n`);
  }
  return h.digest('hex').slice(0, 20);
}

/** Pipe one process's stdout into another's stdin; resolves with the consumer's result. */
function piped(producer: [string, string[]], consumer: [string, string[]]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const a = spawn(producer[0], producer[1], { stdio: ['ignore', 'pipe', 'pipe'] });
    const b = spawn(consumer[0], consumer[1], { stdio: ['pipe', 'pipe', 'pipe'] });
    let aErr = '';
    let stdout = '';
    let stderr = '';
    a.stderr.on('data', (d: Buffer) => (aErr += d.toString()));
    b.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    b.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    b.stdin.on('error', () => {});
    a.stdout.pipe(b.stdin);
    let aCode: number | null = null;
    const aDone = new Promise<void>((res) => a.on('close', (code) => ((aCode = code), res())));
    a.on('error', reject);
    b.on('error', reject);
    b.on('close', (code, signal) => {
      void aDone.then(() => {
        if (aCode !== 0) resolve({ code: aCode, signal: null, stdout: '', stderr: `${producer[0]}: ${aErr}` });
        else resolve({ code, signal, stdout, stderr });
      });
    });
  });
}

let made: Promise<string> | undefined;

/** The image (its tag) with node and this project, made on first use from the project's own files. */
export function projectImage(mirror: string): Promise<string> {
  made ??= makeProjectImage(mirror);
  return made;
}

async function makeProjectImage(mirror: string): Promise<string> {
  const rootfs = await debianRootfs(mirror);
  const node = await realpath(process.execPath);
  const tag = `${IMAGE_REPO}:${await imageKey(rootfs, node)}`;
  if ((await run(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', tag], { allowFail: true })).code === 0) return tag;

  const extra = await tempDir('docker-image');
  try {
    const bin = join(extra, 'usr/local/bin');
    await mkdir(bin, { recursive: true });
    await copyFile(node, join(bin, 'node'));
    await writeFile(join(bin, 'tsbuild'), `#!/bin/sh\nexec node ${PROJECT_IN_IMAGE}/packages/builder/dist/cli.js "$@"\n`);
    await chmod(join(bin, 'tsbuild'), 0o755);
    // One stream: the Debian root, then node and the wrapper, then the checkout, renamed
    // into /opt/tsbuild (only names that start with the checkout's own top-level entries;
    // the root's all start with "./", and symlink targets are left as they are).
    const top = [...new Set(PROJECT_ENTRIES.map((e) => e.split('/')[0]!))].map((e) => e.replace(/[.]/g, '\\.')).join('\\|');
    const tar: [string, string[]] = [
      'tar',
      ['--numeric-owner', '-c', '-C', rootfs, '.', '-C', extra, 'usr/local/bin/node', 'usr/local/bin/tsbuild', `--transform=s,^\\(${top}\\)\\(/\\|$\\),${PROJECT_IN_IMAGE.slice(1)}/\\1\\2,S`, '-C', REPO, ...PROJECT_ENTRIES],
    ];
    const imported = await piped(tar, [DOCKER, ['import', '--change', 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--change', 'CMD ["bash"]', '-', tag]]);
    if (imported.code !== 0) throw new Error(`docker import of the project image failed: ${imported.stderr}`);
  } finally {
    await removeDir(extra);
  }
  // Images made from older checkouts are of no more use.
  const others = (await run(DOCKER, ['images', '--format', '{{.Repository}}:{{.Tag}}', IMAGE_REPO])).stdout.split('\n').filter((r) => r && r !== tag);
  if (others.length) await run(DOCKER, ['rmi', ...others], { allowFail: true });
  return tag;
}

export interface Bind {
  host: string;
  container: string;
  readonly?: boolean;
}

/** One command to run in the container; its exit status, stdout and stderr are kept by name. */
export interface Step {
  name: string;
  argv: string[];
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Run `steps` one after another in one container of `image` (`docker run --rm` with
 * docker's default capabilities and seccomp profile, the host's network so the container
 * reaches the mirrors the host reaches), each step's result kept whatever the others did.
 * `docker` is the result of `docker run` itself.
 */
export async function runSteps(image: string, opts: { binds: Bind[]; env?: Record<string, string>; steps: Step[] }): Promise<{ docker: CliResult; steps: Map<string, CliResult> }> {
  const results = await tempDir('docker-steps');
  const script = ['cd /'];
  for (const s of opts.steps) {
    if (!/^[\w.-]+$/.test(s.name)) throw new Error(`step name ${s.name}: letters, digits, . - _ only`);
    script.push(`${s.argv.map(quote).join(' ')} >/steps/${s.name}.out 2>/steps/${s.name}.err </dev/null; echo $? >/steps/${s.name}.code`);
  }
  const args = ['run', '--rm', '--network', 'host', '-v', `${results}:/steps`];
  for (const b of opts.binds) args.push('-v', `${b.host}:${b.container}${b.readonly ? ':ro' : ''}`);
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
  args.push(image, 'sh', '-c', script.join('\n'));
  try {
    const docker = await run(DOCKER, args, { allowFail: true });
    const steps = new Map<string, CliResult>();
    for (const s of opts.steps) {
      const read = (ext: string) => readFile(join(results, `${s.name}.${ext}`), 'utf8').catch(() => '');
      const code = (await read('code')).trim();
      steps.set(s.name, { code: code === '' ? null : Number(code), signal: null, stdout: await read('out'), stderr: await read('err') });
    }
    return { docker, steps };
  } finally {
    await removeDir(results);
  }
}
