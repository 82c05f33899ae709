/**
 * References of the local image transports, split into a path and an image name the
 * way containers/image (skopeo, buildah, podman) splits them:
 *
 *   oci-archive:PATH[:NAME|:@INDEX]      oci:PATH[:NAME|:@INDEX]      oci-layout://PATH[:NAME]
 *   docker-archive:PATH[:NAME[:TAG]|:@INDEX]
 *
 * containers/image cuts at the first colon (its paths cannot hold one), so the name may
 * itself hold colons: `oci-archive:/tmp/x.tar:myname:1.0` is the image `myname:1.0` in
 * /tmp/x.tar, `docker-archive:d.tar:localhost:5000/app:1` the image `localhost:5000/app:1`.
 * Paths that do hold a colon still work here: a path that exists wins, first the whole
 * text, then the shortest existing prefix (what follows it must be a valid name). When
 * nothing exists, the first colon followed by a valid name splits (the import then names
 * the missing path), else the whole text is the path.
 */
import { existsSync } from 'node:fs';
import { LayerstoreError } from '../errors.js';
import { parseReference } from '../reference.js';

export type LocalTransport = 'oci-archive' | 'oci' | 'docker-archive';

export interface LocalRef {
  transport: LocalTransport;
  path: string;
  /** The image inside: a name, or `@N` for the N-th (from 0); absent: the only one. */
  name?: string;
}

export interface ParseLocalRefOptions {
  /** Does this path exist? (default: the filesystem's answer) */
  exists?: (path: string) => boolean;
}

const PREFIXES: ReadonlyArray<[string, LocalTransport]> = [
  ['oci-archive:', 'oci-archive'],
  ['oci-layout://', 'oci'],
  ['oci:', 'oci'],
  ['docker-archive:', 'docker-archive'],
];

/** An image name annotation (OCI image-spec `org.opencontainers.image.ref.name`), as containers/image checks it. */
const OCI_COMPONENT = '[A-Za-z0-9]+(?:(?:--|[-._:@+])[A-Za-z0-9]+)*';
const OCI_REF_NAME = new RegExp(`^${OCI_COMPONENT}(?:/${OCI_COMPONENT})*$`);
const INDEX = /^@\d+$/;

/** Is this a reference of a local transport (not a store tag or a registry)? */
export function isLocalRef(ref: string): boolean {
  return PREFIXES.some(([p]) => ref.startsWith(p));
}

function validName(transport: LocalTransport, name: string): boolean {
  if (INDEX.test(name)) return true;
  if (transport !== 'docker-archive') return OCI_REF_NAME.test(name);
  try {
    // docker-archive: a docker reference with a tag (or none: latest), never a digest.
    return parseReference(name).digest === undefined;
  } catch {
    return false;
  }
}

export function parseLocalRef(ref: string, opts: ParseLocalRefOptions = {}): LocalRef | undefined {
  const hit = PREFIXES.find(([p]) => ref.startsWith(p));
  if (!hit) return undefined;
  const [prefix, transport] = hit;
  const rest = ref.slice(prefix.length);
  if (rest === '' || rest.startsWith(':')) throw new LayerstoreError('TSBUILD_REFERENCE_INVALID', `${ref}: no path before the image name (want ${prefix}PATH[:NAME])`);
  const exists = opts.exists ?? existsSync;
  if (exists(rest)) return { transport, path: rest };
  let first: { path: string; name: string } | undefined;
  for (let i = rest.indexOf(':'); i !== -1; i = rest.indexOf(':', i + 1)) {
    const path = rest.slice(0, i);
    const name = rest.slice(i + 1);
    const valid = validName(transport, name);
    if (exists(path)) {
      if (valid) return { transport, path, name };
      throw new LayerstoreError('TSBUILD_REFERENCE_INVALID', `${ref}: ${JSON.stringify(name)} is not an image name for ${path} (want ${transport === 'docker-archive' ? 'NAME[:TAG]' : 'NAME'} or @INDEX)`);
    }
    if (valid) first ??= { path, name };
  }
  return first ? { transport, ...first } : { transport, path: rest };
}
