/**
 * Registry credentials, where docker keeps them: `$DOCKER_CONFIG/config.json` (default
 * `~/.docker/config.json`).
 *
 * Lookup, as the docker CLI does it: `credHelpers[registry]`, else `credsStore`, names a
 * helper `docker-credential-NAME` run as `get` with the server URL on stdin; otherwise
 * `auths` (keys may be `host`, `https://host`, `https://host/v1/`...) with `auth`
 * (base64 `user:password`), `username`/`password`, or `identitytoken`. docker.io is
 * looked up as `https://index.docker.io/v1/`. A helper that is not installed falls back to
 * `auths` (docker would fail), so a config copied from a desktop still works in CI.
 *
 * Saving (login) writes `auths[key].auth` and keeps every other key of the file, or hands
 * the secret to the helper's `store` (leaving an empty `auths` entry, as docker does).
 * The file is replaced atomically with mode 0600.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_DOMAIN } from '../reference.js';
import { writeFileAtomic } from '../store/fsutil.js';
import { canonicalRegistry } from './config.js';
import { isJsonObject, parseJson } from '../image/json.js';
import { checkString, checkStringMap, type Bad } from '../image/validate.js';
import { RegistryError } from './errors.js';

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`, or a helper's `<token>` user). */
  identityToken?: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_NAMES = new Set([DEFAULT_DOMAIN, 'index.docker.io', 'registry-1.docker.io']);

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

/** The key docker uses for a registry in `auths` and with helpers. */
export function authKey(registry: string): string {
  return canonicalRegistry(registry) === DEFAULT_DOMAIN ? DOCKER_HUB_KEY : registry;
}

export async function credentialsFor(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const reg = canonicalRegistry(registry);
  const file = await readDockerConfig(env);
  const helper = helperFor(file, reg);
  if (helper !== undefined) {
    const res = await runHelper(helper, 'get', authKey(reg), env, reg);
    if (res !== undefined) {
      if (res.code === 0) return parseHelperCredentials(res.stdout, helper, reg);
      if (/not found/i.test(res.stdout + res.stderr)) return undefined;
      throw new RegistryError('TSBUILD_REGISTRY_AUTH', `credential helper docker-credential-${helper} failed for ${reg}: ${(res.stderr || res.stdout).trim().slice(0, 300)}`, { registry: reg });
    }
  }
  const entry = findEntry(file.auths ?? {}, reg)?.[1];
  return entry ? decodeEntry(entry, reg) : undefined;
}

/** Write credentials for `registry` (after login verified them). */
export async function saveCredentials(registry: string, creds: { username: string; password: string }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const reg = canonicalRegistry(registry);
  const file = await readDockerConfig(env);
  const key = authKey(reg);
  const auths = { ...(file.auths ?? {}) };
  const helper = helperFor(file, reg);
  if (helper !== undefined) {
    const res = await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }), env, reg);
    if (res === undefined) throw new RegistryError('TSBUILD_REGISTRY_AUTH', `credential helper docker-credential-${helper} is not installed`, { registry: reg });
    if (res.code !== 0) throw new RegistryError('TSBUILD_REGISTRY_AUTH', `credential helper docker-credential-${helper} could not store credentials for ${reg}: ${(res.stderr || res.stdout).trim().slice(0, 300)}`, { registry: reg });
    auths[key] = {};
  } else {
    auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  }
  await writeDockerConfig(env, { ...file, auths });
}

/** Forget credentials for `registry`; true when something was removed. */
export async function removeCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const reg = canonicalRegistry(registry);
  const file = await readDockerConfig(env);
  let removed = false;
  const helper = helperFor(file, reg);
  if (helper !== undefined) {
    const res = await runHelper(helper, 'erase', authKey(reg), env, reg);
    removed = res?.code === 0;
  }
  const auths = { ...(file.auths ?? {}) };
  for (let hit = findEntry(auths, reg); hit; hit = findEntry(auths, reg)) {
    delete auths[hit[0]];
    removed = true;
  }
  if (removed && file.auths !== undefined) await writeDockerConfig(env, { ...file, auths });
  return removed;
}

async function readDockerConfig(env: NodeJS.ProcessEnv): Promise<DockerConfigFile> {
  const path = dockerConfigPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new RegistryError('TSBUILD_CONFIG_INVALID', `cannot read ${path}: ${(err as Error).message}`, { registry: '', cause: err });
  }
  const bad = (why: string, cause?: unknown) => new RegistryError('TSBUILD_CONFIG_INVALID', `${path} is not valid: ${why}`, { registry: '', cause });
  let doc: unknown;
  try {
    doc = parseJson(text, 'the file', { code: 'TSBUILD_CONFIG_INVALID' });
  } catch (err) {
    throw bad((err as Error).message, err);
  }
  if (!isJsonObject(doc)) throw bad('not a JSON object');
  return checkDockerConfig(doc, bad);
}

/** What this module reads of the file has the types docker gives it; the rest is kept as is. */
function checkDockerConfig(doc: Record<string, unknown>, bad: Bad): DockerConfigFile {
  checkString(doc.credsStore, 'credsStore', bad);
  checkStringMap(doc.credHelpers, 'credHelpers', bad);
  const auths = doc.auths;
  if (auths !== undefined && auths !== null) {
    if (!isJsonObject(auths)) throw bad('auths is not an object');
    for (const [key, entry] of Object.entries(auths)) {
      const at = `auths[${JSON.stringify(key)}]`;
      if (!isJsonObject(entry)) throw bad(`${at} is not an object`);
      for (const field of ['auth', 'username', 'password', 'identitytoken']) checkString(entry[field], `${at}.${field}`, bad);
    }
  }
  return doc as DockerConfigFile;
}

async function writeDockerConfig(env: NodeJS.ProcessEnv, file: DockerConfigFile): Promise<void> {
  const path = dockerConfigPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify(file, null, '\t')}\n`, 0o600);
}

function helperFor(file: DockerConfigFile, reg: string): string | undefined {
  const helpers = file.credHelpers ?? {};
  const named = Object.entries(helpers).find(([k]) => hostOfKey(k) === reg || (reg === DEFAULT_DOMAIN && DOCKER_HUB_NAMES.has(hostOfKey(k))))?.[1];
  const name = named ?? (file.credsStore || undefined);
  if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new RegistryError('TSBUILD_CONFIG_INVALID', `invalid credential helper name ${JSON.stringify(name)}`, { registry: reg });
  }
  return name;
}

function hostOfKey(key: string): string {
  return canonicalRegistry(key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!);
}

function findEntry(auths: Record<string, AuthEntry>, reg: string): [string, AuthEntry] | undefined {
  const key = authKey(reg);
  if (auths[key] !== undefined) return [key, auths[key]!];
  return Object.entries(auths).find(([k]) => hostOfKey(k) === reg);
}

function decodeEntry(entry: AuthEntry, reg: string): Credentials | undefined {
  if (entry.identitytoken) return { identityToken: entry.identitytoken };
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon <= 0) throw new RegistryError('TSBUILD_CONFIG_INVALID', `the stored credentials for ${reg} are malformed (auth is not base64 user:password)`, { registry: reg });
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}

function parseHelperCredentials(stdout: string, helper: string, reg: string): Credentials | undefined {
  let doc: unknown;
  try {
    doc = parseJson(stdout, `docker-credential-${helper}`);
  } catch {
    throw new RegistryError('TSBUILD_REGISTRY_AUTH', `credential helper docker-credential-${helper} gave no JSON for ${reg}`, { registry: reg });
  }
  const { Username: user, Secret: secret } = isJsonObject(doc) ? doc : {};
  if ((user !== undefined && typeof user !== 'string') || (secret !== undefined && typeof secret !== 'string') || !isJsonObject(doc)) {
    throw new RegistryError('TSBUILD_REGISTRY_AUTH', `credential helper docker-credential-${helper} gave no {"Username", "Secret"} strings for ${reg}`, { registry: reg });
  }
  if (!secret) return undefined;
  return user === '<token>' ? { identityToken: secret } : { username: user ?? '', password: secret };
}

interface HelperResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `docker-credential-NAME ACTION` with `input` on stdin; undefined when it is not installed. */
function runHelper(name: string, action: 'get' | 'store' | 'erase', input: string, env: NodeJS.ProcessEnv, reg: string): Promise<HelperResult | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${name}`, [action], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
    child.once('close', () => clearTimeout(timer));
    child.once('error', () => clearTimeout(timer));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < 1 << 20) stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 1 << 16) stderr += d.toString();
    });
    child.stdin.on('error', () => {});
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') resolve(undefined);
      else reject(new RegistryError('TSBUILD_REGISTRY_AUTH', `cannot run docker-credential-${name}: ${err.message}`, { registry: reg, cause: err }));
    });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
