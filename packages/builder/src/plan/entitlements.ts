/**
 * BuildKit's entitlements: what a Dockerfile may do only when the command line allows it
 * (`--allow network.host`). Checked for every RUN of the stages to build before anything
 * runs, and again when a RUN comes from an ONBUILD trigger of a base image.
 */
import { BuildError, UsageError } from '../errors.js';
import type { Instruction, RunInstruction } from '../dockerfile/instructions/index.js';

export type Entitlement = 'network.host';
const KNOWN: readonly Entitlement[] = ['network.host'];

/** `--allow` values: each one known (security.insecure is not supported). */
export function parseEntitlements(values: readonly string[]): Set<Entitlement> {
  const out = new Set<Entitlement>();
  for (const v of values.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)) {
    if (v === 'security.insecure') throw new UsageError('--allow security.insecure: RUN --security=insecure is not supported');
    if (!KNOWN.includes(v as Entitlement)) throw new UsageError(`--allow ${v}: unknown entitlement, want ${KNOWN.join(' or ')}`);
    out.add(v as Entitlement);
  }
  return out;
}

/** RUN --network=host needs network.host. */
export function checkRunEntitlements(ins: RunInstruction, allowed: ReadonlySet<Entitlement>): void {
  if (ins.network === 'host' && !allowed.has('network.host')) {
    throw new BuildError('TSBUILD_NOT_ALLOWED', 'RUN --network=host is not allowed: it needs the network.host entitlement, given with --allow network.host', { location: ins.location });
  }
}

export function checkEntitlements(instructions: Iterable<Instruction>, allowed: ReadonlySet<Entitlement>): void {
  for (const ins of instructions) if (ins.kind === 'RUN') checkRunEntitlements(ins, allowed);
}
