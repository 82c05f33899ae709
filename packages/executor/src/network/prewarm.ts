/**
 * Prewarmed private networks (the executor's `prewarmNetwork`): each pooled worker makes
 * its network namespace as soon as it starts (sandbox/network.ts prewarmNetwork) and the
 * main thread starts its helper when the worker says it is ready. A run then claims it,
 * or leaves it (stopped here; the worker goes back to the host's namespace or makes a
 * fresh one).
 */
import type { PoolOptions, ReadyWorker } from '../pool.js';
import type { PortSpec } from '../types.js';
import { chooseHelper, type Helper } from './helpers.js';
import { UserNetwork } from './user-network.js';

/** Pool options that prewarm with the helper `want` names; none when no helper is installed. */
export function prewarmingPool(want: string | undefined): PoolOptions {
  let helper: Helper;
  try {
    helper = chooseHelper(want);
  } catch {
    return {}; // runs that want a private network fail with the reason
  }
  return {
    prewarmNetwork: true,
    onReady: (w) => {
      if (w.network) w.attached = UserNetwork.start({ helper, netns: w.network.netns, go: w.network.go });
    },
  };
}

/**
 * The worker's prewarmed network, if it serves this run: a private one with the same
 * helper and no ports (ports are given to a helper when it starts). Otherwise it is
 * stopped and undefined is returned.
 */
export function claimPrewarmed(w: ReadyWorker, helper: Helper | undefined, ports: readonly PortSpec[] | undefined): UserNetwork | undefined {
  const pooled = w.attached instanceof UserNetwork ? w.attached : undefined;
  if (!pooled) return undefined;
  if (helper !== undefined && pooled.helper.kind === helper.kind && (ports ?? []).length === 0) return pooled;
  pooled.stop();
  return undefined;
}
