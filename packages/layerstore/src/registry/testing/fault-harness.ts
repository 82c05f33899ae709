/**
 * What the registry fault tests (faults-*.test.ts) share: one docker-registry per test file
 * holding three images pushed before the tests (two small layers, one 3 MiB layer, and a
 * `library/` image for the mirror cases), a store and client per test, a fault-injecting
 * proxy in front of the registry, and the checks every fault ends with.
 */
import type { ExecutionContext, TestFn } from 'ava';
import type { Digest } from '../../digest.js';
import { parseReference } from '../../reference.js';
import type { Store } from '../../store/store.js';
import { RegistryClient, type RegistryClientOptions } from '../client.js';
import type { RegistryEvent } from '../events.js';
import type { PushResult } from '../push.js';
import { blobsIn, makeImage, tagsIn, tempStore, testClient, testStore } from './fixtures.js';
import { startProxy, type Handler, type TestProxy } from './proxy.js';
import { fileRegistry, type RunningRegistry } from './registry-server.js';

export interface FaultCtx {
  store: Store;
  events: RegistryEvent[];
  client: RegistryClient;
}

export interface FaultHarness {
  registry: RunningRegistry;
  /** The pushed images: `f/small:1`, `f/big:1` and `library/tsbtest:1`. */
  readonly small: PushResult;
  readonly big: PushResult;
  readonly mirrored: PushResult;
  /** A fresh store and a client with short retry delays that records its events. */
  setup(t: ExecutionContext, opts?: RegistryClientOptions): Promise<FaultCtx>;
  /** A proxy in front of the registry, stopped when the test ends. */
  proxy(t: ExecutionContext, handler: Handler): Promise<TestProxy>;
}

export function faultHarness(test: TestFn): FaultHarness {
  const registry = fileRegistry(test);
  let pushed: { small: PushResult; big: PushResult; mirrored: PushResult } | undefined;
  test.before(async () => {
    const seed = await tempStore();
    const c = new RegistryClient();
    try {
      const push = async (layers: number, name: string, size?: number) =>
        c.push(seed.store, await makeImage(seed.store, { layers, ...(size !== undefined ? { size } : {}) }), parseReference(`${registry.host}/${name}`));
      pushed = { small: await push(2, 'f/small:1'), big: await push(1, 'f/big:1', 3 * 1024 * 1024), mirrored: await push(1, 'library/tsbtest:1') };
    } finally {
      c.close();
      await seed.cleanup();
    }
  });
  const images = () => {
    if (!pushed) throw new Error('faultHarness: images used before its before hook ran');
    return pushed;
  };
  return {
    registry,
    get small() {
      return images().small;
    },
    get big() {
      return images().big;
    },
    get mirrored() {
      return images().mirrored;
    },
    async setup(t, opts = {}) {
      const s = await testStore(t);
      const events: RegistryEvent[] = [];
      const client = testClient(t, { retry: { baseDelayMs: 20 }, events, ...opts });
      return { store: s.store, events, client };
    },
    async proxy(t, handler) {
      const p = await startProxy({ host: '127.0.0.1', port: registry.port }, handler);
      t.teardown(() => p.stop());
      return p;
    },
  };
}

/** A failed pull left nothing: no blob, no tag. */
export async function nothingStored(t: ExecutionContext, store: Store): Promise<void> {
  t.deepEqual([...(await blobsIn(store))], [], 'no blob left in the store');
  t.deepEqual(await tagsIn(store), [], 'no tag');
}

export function retries(events: RegistryEvent[]): number {
  return events.filter((e) => e.type === 'retry').length;
}

export const isBlob = (path: string, d: Digest) => path.endsWith(`/blobs/${d}`);
