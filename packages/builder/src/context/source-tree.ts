/**
 * Where COPY reads from: the build context, another stage, or an image. All three are
 * a RootFs (read through, never written) plus a visibility rule.
 */
import { stat } from 'node:fs/promises';
import { RootFs, joinComponents, type Components, type OverlayForm } from '@tsbuild/layerstore';
import { BuildError } from '../errors.js';
import { loadDockerignore, type IgnoreMatcher } from './dockerignore.js';

export interface SourceTree {
  readonly root: RootFs;
  /** For cache keys: `context`, or what identifies a stage's or image's content (its key or digest). */
  readonly id: string;
  /** For messages: `build context`, `stage "build"`, `image "busybox"`. */
  readonly what: string;
  /** Does COPY keep the source's owners (stages and images) or use root (the context)? */
  readonly keepOwners: boolean;
  /** Is this path excluded (e.g. by .dockerignore)? */
  hidden(cs: Components): boolean;
  /** For a hidden directory: can nothing below it be visible? */
  canSkip(cs: Components): boolean;
}

export interface BuildContext extends SourceTree {
  readonly dir: string;
  readonly ignoreFile: string | undefined;
}

export async function openContext(dir: string, dockerfile: string): Promise<BuildContext> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new BuildError('TSBUILD_CONTEXT_NOT_FOUND', `build context ${JSON.stringify(dir)} is not a directory${st ? '' : ' (it does not exist)'}`);
  }
  const { matcher, file } = await loadDockerignore(dir, dockerfile);
  return contextTree(dir, matcher, file);
}

function contextTree(dir: string, matcher: IgnoreMatcher, ignoreFile: string | undefined): BuildContext {
  const rel = (cs: Components) => joinComponents(cs).toString('utf8');
  return {
    dir,
    ignoreFile,
    root: new RootFs({ upper: dir }),
    id: 'context',
    what: 'build context',
    keepOwners: false,
    hidden: (cs) => !matcher.empty && matcher.excludes(rel(cs)),
    canSkip: (cs) => matcher.canSkipDir(rel(cs)),
  };
}

/** A stage's or image's root filesystem as a COPY source: its snapshots (in the store's overlay form), top first. */
export function layersTree(snapshots: readonly string[], what: string, scratchDir: string, id: string, overlayForm: OverlayForm): SourceTree {
  const [top, ...rest] = snapshots;
  return {
    root: new RootFs({ upper: top ?? scratchDir, lowers: rest, overlayForm }),
    id,
    what,
    keepOwners: true,
    hidden: () => false,
    canSkip: () => true,
  };
}
