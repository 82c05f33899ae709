/**
 * Short names always mean docker.io in tsbuild, as in docker. When registries.conf aliases
 * the name being pulled to another image (`fedora` -> registry.fedoraproject.org/fedora,
 * as podman would pull), say so once per client: the pull still goes to docker.io. The
 * reference no longer tells whether it was written short, so `docker.io/library/fedora`
 * written out in full gets the same note.
 */
import { DEFAULT_DOMAIN, type Reference } from '../reference.js';
import type { Runtime } from './runtime.js';

export function noteShortNameAlias(rt: Runtime, ref: Reference): void {
  if (ref.domain !== DEFAULT_DOMAIN) return;
  const alias = rt.config.aliases?.[ref.path];
  if (!alias || rt.noted.has(ref.path)) return;
  rt.noted.add(ref.path);
  const short = ref.path.replace(/^library\//, '');
  rt.emit({
    type: 'warning',
    message: `${alias.origin} aliases the short name "${short}" to ${alias.target}; tsbuild, like docker, pulls ${DEFAULT_DOMAIN}/${ref.path} (write ${alias.target} to get that image)`,
  });
}
