/**
 * Registry events (layerstore's RegistryEvent) drawn for a person: `pull`, `push` and
 * `run` show docker pull's and docker push's lines; a build shows retries, fallbacks and warnings among
 * its own events, as warnings.
 */
import { parseReference, withDefaultTag, type RegistryEvent } from '@tsbuild/layerstore';
import type { BuildEvent } from '../solve/index.js';

/** docker pull's lines, from the client's events (nothing when quiet). */
export function pullRenderer(out: NodeJS.WritableStream, quiet: boolean): (e: RegistryEvent) => void {
  return (e) => {
    if (quiet) return;
    if (e.type === 'blob' && e.kind === 'layer') {
      const id = e.digest.slice(7, 19);
      if (e.status === 'exists') out.write(`${id}: Already exists\n`);
      else if (e.status === 'fetched') out.write(`${id}: Pull complete\n`);
      else if (e.status === 'mounted') out.write(`${id}: Mounted from another repository\n`);
      else if (e.status === 'uploaded') out.write(`${id}: Pushed\n`);
    } else if (e.type === 'pushed') out.write(`${tagOf(e.reference)}: digest: ${e.digest} size: ${e.size}\n`); else if (e.type === 'retry') out.write(`retrying ${e.what} on ${e.endpoint} (attempt ${e.attempt}, ${e.reason})\n`);
    else if (e.type === 'fallback') out.write(`${e.endpoint} failed (${e.reason}), trying ${e.next}\n`);
    else if (e.type === 'warning') out.write(`WARNING: ${e.message}\n`);
  };
}

/** The tag of a pushed reference, as docker push's last line names it. */
function tagOf(reference: string): string {
  try {
    return withDefaultTag(parseReference(reference)).tag ?? reference;
  } catch {
    return reference;
  }
}

/** What a build shows of a registry event: retries, fallbacks and warnings, as build warnings. */
export function registryWarning(e: RegistryEvent): BuildEvent | undefined {
  if (e.type === 'warning') return { type: 'warning', message: e.message };
  if (e.type === 'retry') return { type: 'warning', message: `retrying ${e.what} on ${e.endpoint}: ${e.reason}` };
  if (e.type === 'fallback') return { type: 'warning', message: `${e.endpoint}: ${e.reason}; trying ${e.next}` };
  return undefined;
}
