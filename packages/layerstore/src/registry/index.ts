/**
 * The registry client: OCI distribution pull and push, auth, mirrors.
 *
 *   const config = await loadRegistryConfig({ mirrors: flags.registryMirror, insecure: flags.insecureRegistry });
 *   const client = new RegistryClient({ config, onEvent: (e) => progress.registry(e) });
 *   try {
 *     const ref = parseReference('busybox');                 // docker.io/library/busybox (":latest" added by pull)
 *     const { image, digest, source } = await client.pull(store, ref, { platform: { os: 'linux', architecture: 'amd64' } });
 *     //  image: the StoredImage, tagged `busybox:latest` in the store (pass `tag: false` to skip)
 *     //  digest: what the reference resolved to (index digest for multi-platform images): record it
 *     //          as org.opencontainers.image.base.digest; source: the mirror or registry host used
 *     const pushed = await client.push(store, built, parseReference('registry.internal/app:1'));
 *     //  pushed.digest: the manifest digest, for --iidfile / --metadata-file
 *   } finally {
 *     client.close();
 *   }
 *   await login('registry.internal', { username, password });   // checks, then ~/.docker/config.json
 *   await logout('registry.internal');
 *
 * Guarantees: every manifest, config and layer is checked against its
 * digest and size before it is stored; a layer's uncompressed digest is checked against
 * the config's diff_id before it is committed; a failed pull stores nothing and tags
 * nothing; bodies read into memory are capped (manifest and config 4 MiB, token and error
 * bodies 1 MiB); credentials are sent only to the registry's own origin; redirects and
 * token realms follow ggcr's SSRF rules; foreign layer URLs are never fetched.
 * Errors are RegistryErrors (codes in errors.ts) whose message names the operation, the
 * reference and the registry; the CLI maps them to exit codes.
 *
 * Where things are decided (each file's comment has the details):
 *   http.ts         node:http(s), not fetch: own CA list (tls.ts: system bundle + SSL_CERT_FILE),
 *                   per-hop redirect checks, Node streams in and out of the BlobStore
 *   proxy.ts        HTTP(S)_PROXY / NO_PROXY with Go's rules; tunnel.ts: CONNECT tunnels and
 *                   connections to the proxy, kept alive
 *   session.ts      auth (Basic / bearer per scope set, refresh on 401), retries (retry.ts)
 *   blob-fetch.ts   Range resume within one pull; diff_id checked while the layer streams
 *   config.ts       where mirrors, insecure and blocked registries come from: flags, tsbuild's file,
 *                   registries.conf (+.d), daemon.json; config-merge.ts combines them
 *   endpoints.ts    mirrors (pull only, in order, then the registry), insecure and loopback hosts
 *   blob-records.ts which repositories hold which blobs, for cross-repository mounts
 *   changes.ts      what a failed pull takes back
 */
export { RegistryClient, DEFAULT_USER_AGENT, type RegistryClientOptions } from './client.js';
export type { PullOptions, PullResult, ResolveOptions, Resolved } from './pull.js';
export type { PushOptions, PushResult } from './push.js';
export { loadRegistryConfig, parseRegistryConfig, type RegistryConfig, type LoadConfigOptions, type Mirror, type MirrorSpec, type ShortNameAlias } from './config.js';
export { credentialsFor, dockerConfigPath, type Credentials } from './credentials.js';
export { login, logout, type LoginOptions } from './login.js';
export { RegistryError } from './errors.js';
export type { RegistryEvent, BlobStatus, EventSink } from './events.js';
export type { RetryPolicy } from './retry.js';
