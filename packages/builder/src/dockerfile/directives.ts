/**
 * Parser directives tsbuild reads but does not act on, each worth one warning with its
 * line rather than silence:
 *
 *   # syntax=REF   BuildKit would run the frontend image REF. tsbuild *is* the Dockerfile
 *                  frontend, so `docker/dockerfile` (any tag or digest, with or without
 *                  `docker.io/`) means nothing to do; any other frontend is not run.
 *   # check=...    build checks (BuildKit's lint rules) are not implemented.
 */
import type { SourceLocation } from '../errors.js';

export interface DirectiveWarning {
  message: string;
  location: SourceLocation;
}

const OWN_FRONTEND = /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?docker\/dockerfile(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** The frontend image of a syntax directive: its first word (BuildKit ignores the rest). */
export function frontendRef(value: string): string {
  return value.trim().split(/[\t\n\f\r ]+/)[0] ?? '';
}

/** Is this `# syntax=` value the Dockerfile language tsbuild implements? */
export function isOwnFrontend(value: string): boolean {
  return OWN_FRONTEND.test(frontendRef(value));
}

export function directiveWarnings(d: { syntax?: { value: string; location: SourceLocation }; check?: { value: string; location: SourceLocation } }): DirectiveWarning[] {
  const out: DirectiveWarning[] = [];
  if (d.syntax && !isOwnFrontend(d.syntax.value)) {
    out.push({
      message: `# syntax=${frontendRef(d.syntax.value)}: tsbuild does not run other frontends; this Dockerfile is read as docker/dockerfile:1 (the directive is ignored)`,
      location: d.syntax.location,
    });
  }
  if (d.check) {
    out.push({ message: `# check=${d.check.value}: build checks are not implemented yet; the directive is ignored`, location: d.check.location });
  }
  return out;
}
