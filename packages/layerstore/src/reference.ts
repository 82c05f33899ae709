/**
 * Image references, parsed and normalised the way Docker does
 * (`busybox` -> `docker.io/library/busybox:latest`).
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 */
import { isDigest, type Digest } from './digest.js';
import { LayerstoreError } from './errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME = 255;

export interface Reference {
  /** Registry host (with port), e.g. `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: Digest;
}

export function parseReference(input: string): Reference {
  const bad = (why: string) => new LayerstoreError('TSBUILD_REFERENCE_INVALID', `invalid reference ${JSON.stringify(input)}: ${why}`);
  if (input === '') throw bad('empty');
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw bad('digest must be sha256:<64 lowercase hex>');
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`invalid tag ${JSON.stringify(tag)}`);
  }
  if (rest.length > MAX_NAME) throw bad(`repository name longer than ${MAX_NAME} characters`);
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  if (slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw bad(`invalid registry host ${JSON.stringify(domain)}`);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (path === '') throw bad('missing repository name');
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      if (component.toLowerCase() !== component && PATH_COMPONENT.test(component.toLowerCase())) throw bad('repository name must be lowercase');
      throw bad(`invalid repository name component ${JSON.stringify(component)}`);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** Add `:latest` when there is neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref;
}

/** `docker.io/library/busybox:latest` */
export function formatReference(ref: Reference): string {
  return `${ref.domain}/${ref.path}${suffix(ref)}`;
}

/** The repository without tag or digest, familiar form: `busybox`, `localhost:5000/app`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith(OFFICIAL_PREFIX) && ref.path.indexOf('/', OFFICIAL_PREFIX.length) === -1 ? ref.path.slice(OFFICIAL_PREFIX.length) : ref.path;
}

/** `busybox:latest`, `localhost:5000/app:1`: what `docker images` shows, and our tag names in the store. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + suffix(ref);
}

function suffix(ref: Reference): string {
  return `${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** Parse a `-t` style name: a reference that must not carry a digest; `:latest` added. */
export function parseTag(input: string): Reference {
  const ref = withDefaultTag(parseReference(input));
  if (ref.digest !== undefined) {
    throw new LayerstoreError('TSBUILD_REFERENCE_INVALID', `invalid tag ${JSON.stringify(input)}: a tag cannot contain a digest`);
  }
  return ref;
}
