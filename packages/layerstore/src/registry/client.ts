/**
 * RegistryClient: pull, resolve and push over the OCI distribution API. One client holds
 * the connections, learned auth (challenges, tokens per scope) and the blob-transfer bound
 * for everything it does; create one per command and `close()` it at the end.
 */
import type { Reference } from '../reference.js';
import type { Store, StoredImage } from '../store/store.js';
import { canonicalRegistry, type RegistryConfig } from './config.js';
import { credentialsFor, type Credentials } from './credentials.js';
import type { EventSink } from './events.js';
import { HttpTransport } from './http.js';
import { Limiter } from './limit.js';
import { pullImage, resolveImage, type PullOptions, type PullResult, type Resolved, type ResolveOptions } from './pull.js';
import { pushImage, type PushOptions, type PushResult } from './push.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import type { Runtime } from './runtime.js';
import type { HostState } from './session.js';

export interface RegistryClientOptions {
  config?: RegistryConfig;
  /** For credentials (HOME, DOCKER_CONFIG, PATH of helpers), SSL_CERT_FILE and HTTP(S)_PROXY / NO_PROXY. Default process.env. */
  env?: NodeJS.ProcessEnv;
  userAgent?: string;
  /** Progress events; the client never prints. */
  onEvent?: EventSink;
  /** Blob transfers at once, across everything this client does (default 4). */
  maxConcurrentBlobs?: number;
  retry?: Partial<RetryPolicy>;
  /** A connection idle this long fails (default 60 s). */
  timeoutMs?: number;
  /** Default push chunk size: larger blobs are uploaded in PATCH chunks (default 64 MiB). */
  chunkSize?: number;
  /** Credentials per host instead of the docker config (login, tests, `--username` flags). */
  credentials?: (host: string) => Credentials | undefined | Promise<Credentials | undefined>;
}

export const DEFAULT_USER_AGENT = `tsbuild/0.1.0 node/${process.versions.node}`;

export class RegistryClient {
  private readonly rt: Runtime;
  private readonly http: HttpTransport;
  private readonly hosts = new Map<string, HostState>();

  constructor(opts: RegistryClientOptions = {}) {
    const env = opts.env ?? process.env;
    this.http = new HttpTransport({ env, userAgent: opts.userAgent ?? DEFAULT_USER_AGENT, timeoutMs: opts.timeoutMs ?? 60_000 });
    const emit: EventSink = opts.onEvent ?? (() => {});
    const lookup = opts.credentials ?? ((host: string) => credentialsFor(canonicalRegistry(host), env));
    this.rt = {
      ctx: {
        http: this.http,
        retry: { ...DEFAULT_RETRY, ...opts.retry },
        emit,
        host: (host) => this.hostState(host),
        credentialsFor: (host) => {
          const state = this.hostState(host);
          state.credentials ??= Promise.resolve(lookup(host));
          return state.credentials;
        },
      },
      config: opts.config ?? {},
      limiter: new Limiter(opts.maxConcurrentBlobs ?? 4),
      emit,
      retry: { ...DEFAULT_RETRY, ...opts.retry },
      chunkSize: opts.chunkSize ?? 64 * 1024 * 1024,
      noted: new Set(),
    };
    for (const message of this.rt.config.warnings ?? []) emit({ type: 'warning', message });
  }

  /** Pull `ref` for `opts.platform` into the store and tag it (unless `tag: false`). */
  pull(store: Store, ref: Reference, opts: PullOptions): Promise<PullResult> {
    return pullImage(this.rt, store, ref, opts);
  }

  /** What `ref` points at now, and the image manifest for the platform; stores nothing. */
  resolve(ref: Reference, opts: ResolveOptions): Promise<Resolved> {
    return resolveImage(this.rt, ref, opts);
  }

  /** Push an image from the store to `ref`; returns the manifest digest the registry holds. */
  push(store: Store, image: StoredImage, ref: Reference, opts: PushOptions = {}): Promise<PushResult> {
    return pushImage(this.rt, store, image, ref, opts);
  }

  /** Close idle connections. */
  close(): void {
    this.http.close();
  }

  /** @internal for login: the runtime of this client. */
  get runtime(): Runtime {
    return this.rt;
  }

  private hostState(host: string): HostState {
    let s = this.hosts.get(host);
    if (!s) this.hosts.set(host, (s = { tokens: new Map() }));
    return s;
  }
}
