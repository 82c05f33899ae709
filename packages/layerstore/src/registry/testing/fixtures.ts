/** Stores, clients, certificates and small images for the registry tests. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Digest } from '../../digest.js';
import type { ImageConfig } from '../../image/types.js';
import { RegistryClient, type RegistryClientOptions } from '../client.js';
import type { RegistryEvent } from '../events.js';
import { Store, type StoredImage } from '../../store/store.js';
import { putLayers } from '../../testing/image.js';
import { file } from '../../testing/tarbuild.js';

export const AMD64 = { os: 'linux', architecture: 'amd64' } as const;

export interface TempStore {
  store: Store;
  root: string;
  cleanup(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const root = await mkdtemp(join(tmpdir(), 'tsbuild-regtest-store-'));
  const store = await Store.open(root);
  return {
    store,
    root,
    cleanup: async () => {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** What a test registers its cleanups with (ava's ExecutionContext). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A temporary store, closed and removed when the test ends. */
export async function testStore(t: Teardown): Promise<TempStore> {
  const s = await tempStore();
  t.teardown(s.cleanup);
  return s;
}

/**
 * A client closed when the test ends, retrying after 10 ms (not the real backoff); with
 * `events`, every event it emits is pushed there.
 */
export function testClient(t: Teardown, opts: RegistryClientOptions & { events?: RegistryEvent[] } = {}): RegistryClient {
  const { events, ...rest } = opts;
  const client = new RegistryClient({ retry: { baseDelayMs: 10 }, ...(events ? { onEvent: (e: RegistryEvent) => events.push(e) } : {}), ...rest });
  t.teardown(() => client.close());
  return client;
}

/** A self-signed certificate and its key in `dir` (`cert.pem`, `key.pem`), for `subject` and the given subjectAltNames. */
export async function selfSignedCert(dir: string, subject: string, altNames?: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${subject}`, ...(altNames ? ['-addext', `subjectAltName=${altNames}`] : [])]);
  return { cert, key };
}

/** An image of `layers` layers (uncompressed in the store), each with `size` random bytes in one file. */
export async function makeImage(store: Store, opts: { layers?: number; size?: number; extra?: Partial<ImageConfig> } = {}): Promise<StoredImage> {
  const layers = Array.from({ length: opts.layers ?? 2 }, (_, i) => [file(`data/file${i}.bin`, randomBytes(opts.size ?? 2048))]);
  return putLayers(store, layers, { config: { Cmd: ['/bin/sh'] }, ...opts.extra });
}

/** Every blob digest in the store. */
export async function blobsIn(store: Store): Promise<Set<Digest>> {
  const out = new Set<Digest>();
  for await (const d of store.blobs.list()) out.add(d);
  return out;
}

export async function tagsIn(store: Store): Promise<string[]> {
  return (await store.tags.list()).map((t) => t.name);
}

export const run = promisify(execFile);

/** `skopeo copy` with the test registry's quirks (plain http, no policy file needed). */
export async function skopeoCopy(from: string, to: string): Promise<void> {
  await run('skopeo', ['copy', '-q', '--insecure-policy', '--src-tls-verify=false', '--dest-tls-verify=false', from, to], { maxBuffer: 1 << 20 });
}
