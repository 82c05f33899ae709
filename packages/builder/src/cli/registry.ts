/** Registry commands (pull, push, login, logout) and the registry client the other commands share. */

import {
  familiarString,
  formatReference,
  loadRegistryConfig,
  login,
  logout,
  parseReference,
  withDefaultTag,
  RegistryClient,
  type Descriptor,
  type ImageForm,
  type ManifestFormat,
  type Platform,
  type RegistryEvent,
  type Store,
  type StoredImage,
} from '@tsbuild/layerstore';
import { BuildError, UsageError } from '../errors.js';
import { formatPlatform, isHostPlatform, parsePlatform as parseOnePlatform } from '../plan/platform.js';
import { resolveImage } from '../build/images.js';
import { hostPlatform } from '../plan/platform.js';
import type { Io } from './build-command.js';

export interface RegistryFlags {
  registryMirror: string[];
  insecureRegistry: string[];
}

export interface Registry {
  /** The client, created on first use. */
  client(): RegistryClient;
  close(): void;
}

export async function openRegistry(io: Io, flags: RegistryFlags, onEvent?: (e: RegistryEvent) => void): Promise<Registry> {
  const config = await loadRegistryConfig({ env: io.env, mirrors: flags.registryMirror, insecure: flags.insecureRegistry });
  let client: RegistryClient | undefined;
  return {
    client: () => (client ??= new RegistryClient({ config, env: io.env, ...(onEvent ? { onEvent } : {}) })),
    close: () => client?.close(),
  };
}

/**
 * `--platform OS/ARCH[/VARIANT]`, normalised like docker's (plan/platform.ts). With
 * `hostOnly` (builds): a list or a platform other than this machine's is an error
 * naming the flag, until multi-platform and cross builds exist.
 */
export function parsePlatform(spec: string | undefined, opts: { hostOnly?: boolean } = {}): Platform {
  if (spec === undefined) return hostPlatform();
  if (spec.includes(',')) {
    throw new UsageError(`--platform ${spec}: ${opts.hostOnly ? 'multi-platform builds are not supported yet; build one platform at a time' : 'give one platform'}`);
  }
  let p: Platform;
  try {
    p = parseOnePlatform(spec);
  } catch (err) {
    if (err instanceof BuildError) throw new UsageError(`--platform ${spec}: ${err.message}`);
    throw err;
  }
  if (!opts.hostOnly) return p;
  if (!isHostPlatform(p)) throw new UsageError(`--platform ${spec}: cross-platform builds are not supported yet; this machine builds ${formatPlatform(hostPlatform())}`);
  return hostPlatform();
}

/** docker pull's lines, from the client's events. */
export function pullPrinter(out: NodeJS.WritableStream, quiet: boolean): (e: RegistryEvent) => void {
  return (e) => {
    if (quiet) return;
    if (e.type === 'blob' && e.kind === 'layer') {
      const id = e.digest.slice(7, 19);
      if (e.status === 'exists') out.write(`${id}: Already exists\n`);
      else if (e.status === 'fetched') out.write(`${id}: Pull complete\n`);
      else if (e.status === 'mounted') out.write(`${id}: Mounted from another repository\n`);
      else if (e.status === 'uploaded') out.write(`${id}: Pushed\n`);
    } else if (e.type === 'retry') out.write(`retrying ${e.what} on ${e.endpoint} (attempt ${e.attempt}, ${e.reason})\n`);
    else if (e.type === 'fallback') out.write(`${e.endpoint} failed (${e.reason}), trying ${e.next}\n`);
    else if (e.type === 'warning') out.write(`WARNING: ${e.message}\n`);
  };
}

export async function pullCommand(store: Store, io: Io, a: RegistryFlags & { ref: string; platform?: string; quiet: boolean }): Promise<void> {
  const ref = withDefaultTag(parseReference(a.ref));
  const registry = await openRegistry(io, a, pullPrinter(io.stderr, a.quiet));
  try {
    if (!a.quiet) io.stderr.write(`${ref.tag ?? ref.digest}: Pulling from ${ref.path}\n`);
    const { image, digest, source, updated } = await registry.client().pull(store, ref, { platform: parsePlatform(a.platform), signal: io.signal });
    const status = updated ? 'Downloaded newer image' : 'Image is up to date';
    if (!a.quiet) io.stderr.write(`Digest: ${digest}\nStatus: ${status} for ${familiarString(ref)} (from ${source}, image ID ${image.id.slice(7, 19)})\n`);
    io.stdout.write(`${formatReference(ref)}\n`);
  } finally {
    registry.close();
  }
}

/**
 * Push a store image under one or more names, in `form` (media-type family and layer
 * compression; by default the image's own family, uncompressed layers gzip); returns the
 * pushed manifest's descriptor.
 */
export async function pushImage(store: Store, registry: Registry, image: StoredImage, destinations: string[], io: Io, quiet: boolean, form: ImageForm = {}): Promise<Descriptor | undefined> {
  let pushedDesc: Descriptor | undefined;
  for (const dest of destinations) {
    const ref = withDefaultTag(parseReference(dest));
    if (ref.digest !== undefined) throw new UsageError(`push ${dest}: push to a tag, not a digest`);
    const pushed = await registry.client().push(store, image, ref, {
      signal: io.signal,
      ...(form.format ? { format: form.format } : {}),
      ...(form.compression ? { compression: form.compression } : {}),
      ...(form.level !== undefined ? { level: form.level } : {}),
    });
    pushedDesc = { mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size };
    if (!quiet) io.stderr.write(`${ref.tag}: digest: ${pushed.digest} size: ${pushed.size}\n`);
  }
  return pushedDesc;
}

/** `push --format`: skopeo's and buildah's names for the manifest families. */
const PUSH_FORMATS: Record<string, ManifestFormat> = { oci: 'oci', v2s2: 'docker', docker: 'docker' };

export async function pushCommand(store: Store, io: Io, a: RegistryFlags & { image: string; dest?: string; quiet: boolean; format?: string }): Promise<void> {
  const format = a.format === undefined ? undefined : PUSH_FORMATS[a.format];
  if (a.format !== undefined && format === undefined) throw new UsageError(`--format ${JSON.stringify(a.format)}: want oci or v2s2`);
  const registry = await openRegistry(io, a, pullPrinter(io.stderr, a.quiet));
  try {
    const { image } = await resolveImage(a.image, { store });
    const pushed = await pushImage(store, registry, image, [a.dest ?? a.image], io, a.quiet, format ? { format } : {});
    io.stdout.write(`${pushed?.digest}\n`);
  } finally {
    registry.close();
  }
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function loginCommand(io: Io & { stdin: NodeJS.ReadableStream }, a: RegistryFlags & { registry?: string; username?: string; password?: string; passwordStdin: boolean }): Promise<void> {
  const registry = a.registry ?? 'docker.io';
  if (!a.username) throw new UsageError('login: -u USERNAME is required');
  if (a.password !== undefined && a.passwordStdin) throw new UsageError('login: --password and --password-stdin are mutually exclusive');
  let password = a.password;
  if (a.passwordStdin) password = await readStdin(io.stdin);
  if (password === undefined || password === '') throw new UsageError('login: give the password with --password-stdin (or -p)');
  if (a.password !== undefined) io.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  const config = await loadRegistryConfig({ env: io.env, mirrors: a.registryMirror, insecure: a.insecureRegistry });
  await login(registry, { username: a.username, password }, { config, env: io.env, signal: io.signal });
  io.stdout.write('Login Succeeded\n');
}

export async function logoutCommand(io: Io, a: { registry?: string }): Promise<void> {
  const registry = a.registry ?? 'docker.io';
  const removed = await logout(registry, { env: io.env });
  io.stdout.write(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
}

