/**
 * COPY and ADD: sources from the build context, another stage or an image, copied
 * into a new layer. ADD also extracts local tar archives (gzip, bzip2, xz, zstd,
 * recognised by content, not by name).
 */
import { posix } from 'node:path';
import { joinComponents, show, splitPath, Copier, type Components } from '@tsbuild/layerstore';
import { writeFile, chmod, lchown } from 'node:fs/promises';
import { BuildError } from '../errors.js';
import { ExpansionError, MAX_EXPANSION } from '../dockerfile/shell-lex.js';
import type { CopyInstruction } from '../dockerfile/instructions/index.js';
import type { SourceTree } from '../context/source-tree.js';
import { hasWildcard, matchComponent } from '../context/glob.js';
import type { FsStepContext } from './context.js';
import { layerStep } from './layer-step.js';
import { cachedLayer } from '../solve/cache.js';
import { expansionLookup, withHistory, withLayer, type StageState } from '../solve/state.js';
import { stepOwner } from './users.js';
import { extractArchive, isTarArchive } from './add-archive.js';

interface ResolvedSource {
  /** The path as written (after expansion), for messages and history. */
  written: string;
  /** Canonical path in the source tree, symlinks resolved. */
  cs: Components;
  /** Name the copy gets when dropped into a directory. */
  name: Buffer;
}

export async function applyCopy(state: StageState, ins: CopyInstruction, ctx: FsStepContext): Promise<StageState> {
  const fail = (message: string, code: 'TSBUILD_SOURCE_NOT_FOUND' | 'TSBUILD_CONTEXT_ESCAPE' | 'TSBUILD_INVALID_ARGUMENT' = 'TSBUILD_INVALID_ARGUMENT') =>
    new BuildError(code, message, { location: ins.location });
  const lookup = expansionLookup(state);
  const expand = (w: string) => {
    try {
      return ctx.lex.processWord(w, lookup);
    } catch (err) {
      throw err instanceof BuildError ? err.at(ins.location) : err;
    }
  };
  const written = ins.sources.map(expand);
  const destWritten = expand(ins.dest);
  if (destWritten === '') throw fail(`${ins.kind}: destination is empty`);
  const tree = ins.from !== undefined ? await ctx.fromSource(expand(ins.from)) : ctx.context;
  if (ins.kind === 'ADD' && written.some((s) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('git@'))) {
    throw fail('ADD from a URL or git repository is not supported by this version of tsbuild; download it in a RUN step or into the build context');
  }
  if (ins.checksum !== undefined) throw fail('ADD --checksum is only valid for sources that are URLs');
  if (ins.keepGitDir !== undefined) throw fail('ADD --keep-git-dir is only valid for git sources');
  if (ins.parents) throw fail('COPY --parents is not supported by this version of tsbuild');
  if (ins.exclude.length > 0) throw fail(`${ins.kind} --exclude is not supported by this version of tsbuild`);

  const sources: ResolvedSource[] = [];
  for (const src of written) sources.push(...(await resolveSources(tree, src, ins, fail)));
  const total = sources.length + ins.heredocs.length;
  const workdir = state.config.config?.WorkingDir || '/';
  const destAbs = posix.isAbsolute(destWritten) ? destWritten : posix.join(workdir, destWritten);
  const destIsDir = /\/$/.test(destWritten) || /(^|\/)\.\.?$/.test(destWritten) || (destWritten === '.') || written.some(hasWildcard) && sources.length > 1;
  if (written.length + ins.heredocs.length > 1 && !/\/$/.test(destWritten) && !(destWritten === '.' || destWritten.endsWith('/.'))) {
    throw fail(`When using ${ins.kind} with more than one source file, the destination must be a directory and end with a /`);
  }
  const mode = ins.chmod !== undefined ? parseInt(ins.chmod, 8) : undefined;

  const createdBy = `${ins.kind} ${[...ins.heredocs.map((h) => `<<${h.name}`), ...written, destWritten].join(' ')} # buildkit`;
  // What the copy reads: the context's content (checksums), or a stage's or image's identity.
  const checksums = tree.id === 'context' ? await Promise.all(sources.map((s) => ctx.checksums.checksum(tree, s.cs))) : [];
  const heredocs = ins.heredocs.map((h) => ({ name: h.name, content: h.expand ? expandHeredoc(ctx, state, h.content) : h.content }));
  const inputs = {
    step: ins.kind,
    from: tree.id,
    sources: sources.map((s) => ({ path: s.written, name: s.name.toString('latin1'), at: s.cs.map((c) => c.toString('latin1')) })),
    checksums,
    dest: destAbs,
    destIsDir,
    heredocs,
    chown: ins.chown === undefined ? undefined : expand(ins.chown),
    chmod: ins.chmod,
    link: ins.link,
    sourceDateEpoch: ctx.sourceDateEpoch,
  };
  const { key, layer, createdBy: shown } = await cachedLayer(state, ctx.stepCache, inputs, createdBy, () => layerStep(state, { store: ctx.store, detached: ins.link, ...(ctx.sourceDateEpoch !== undefined ? { sourceDateEpoch: ctx.sourceDateEpoch } : {}) }, async (root) => {
    const owner = ins.chown === undefined ? undefined : await stepOwner(expand(ins.chown), root, ins, `${ins.kind} --chown`);
    const copier = new Copier(tree, root, { ...(owner ? { owner } : {}), ...(mode !== undefined ? { mode } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const created = copier.createdDirOwner();
    const destCs = await root.resolve(destAbs, { followFinal: true });
    const destEntry = await root.lookup(destCs);
    const intoDir = destIsDir || total > 1 || (destEntry?.stat.isDirectory() ?? false);

    for (const h of heredocs) {
      const dir = intoDir ? destCs : destCs.slice(0, -1);
      await root.ensureDir(dir, created);
      const target = intoDir ? [...destCs, Buffer.from(h.name)] : destCs;
      const { host } = await root.prepareCreate(target, false);
      await writeFile(host, h.content);
      await lchown(host, owner?.uid ?? 0, owner?.gid ?? 0);
      await chmod(host, mode ?? 0o644);
    }
    for (const s of sources) {
      const e = await tree.root.lookup(s.cs);
      if (!e) throw fail(`${ins.kind} source not found: ${s.written}`, 'TSBUILD_SOURCE_NOT_FOUND');
      if (e.stat.isDirectory()) {
        await root.ensureDir(destCs, created);
        await copier.copyChildren(s.cs, destCs);
        continue;
      }
      if (ins.kind === 'ADD' && ins.from === undefined && e.stat.isFile() && (await isTarArchive(e.host))) {
        await root.ensureDir(destCs, created);
        await extractArchive(root, e.host, destCs, owner, s.written);
        continue;
      }
      const target = intoDir ? [...destCs, s.name] : destCs;
      await root.ensureDir(target.slice(0, -1), created);
      await copier.copyEntry(s.cs, target, e.stat, e.host);
    }
  }));

  return { ...withHistory(withLayer(state, layer), { created_by: shown, comment: 'buildkit.dockerfile.v0' }), cacheKey: key };
}

/** Resolve one source word (maybe a wildcard) to the entries it names in the tree. */
async function resolveSources(tree: SourceTree, src: string, ins: CopyInstruction, fail: (m: string, code?: 'TSBUILD_SOURCE_NOT_FOUND' | 'TSBUILD_CONTEXT_ESCAPE') => BuildError): Promise<ResolvedSource[]> {
  const parts = splitPath(src).map((c) => c.toString('utf8'));
  let depth = 0;
  for (const p of parts) {
    depth += p === '..' ? -1 : 1;
    if (depth < 0) throw fail(`${ins.kind} source ${src} is outside the ${tree.what}`, 'TSBUILD_CONTEXT_ESCAPE');
  }
  if (!hasWildcard(src)) {
    const one = await resolveOne(tree, src);
    if (!one) throw fail(`${ins.kind} source not found: ${src}${await escapeHint(tree, src)}`, 'TSBUILD_SOURCE_NOT_FOUND');
    return [one];
  }
  // Wildcards: match component by component from the root of the tree.
  let candidates: Components[] = [[]];
  for (const part of parts) {
    const next: Components[] = [];
    for (const dir of candidates) {
      if (part === '..') {
        next.push(dir.slice(0, -1));
        continue;
      }
      if (!hasWildcard(part)) {
        next.push([...dir, Buffer.from(part.replace(/\\(.)/g, '$1'))]);
        continue;
      }
      const resolvedDir = await tree.root.resolve(joinAbs(dir), { followFinal: true });
      const e = await tree.root.lookup(resolvedDir);
      if (!e?.stat.isDirectory()) continue;
      for (const name of await tree.root.readdir(resolvedDir)) {
        let ok: boolean;
        try {
          ok = matchComponent(part, name.toString('utf8'));
        } catch (err) {
          throw err instanceof BuildError ? err.at(ins.location) : err;
        }
        if (ok) next.push([...dir, name]);
      }
    }
    candidates = next;
  }
  const out: ResolvedSource[] = [];
  for (const c of candidates) {
    const one = await resolveOne(tree, joinAbs(c).toString('latin1'), c);
    if (one) out.push({ ...one, written: show(c) });
  }
  if (out.length === 0) throw fail(`${ins.kind} source not found: no files match ${src}`, 'TSBUILD_SOURCE_NOT_FOUND');
  return out;
}

function joinAbs(cs: Components): Buffer {
  return Buffer.concat([Buffer.from('/'), joinComponents(cs)]);
}

async function resolveOne(tree: SourceTree, src: string, raw?: Components): Promise<ResolvedSource | undefined> {
  const lexical = raw ?? splitPath(src).filter((c) => c.toString() !== '..');
  const path = raw ? joinAbs(raw) : Buffer.from(`/${src}`);
  const cs = await tree.root.resolve(path, { followFinal: true });
  if (tree.hidden(cs) || (lexical.length > 0 && tree.hidden(lexical))) return undefined;
  if (!(await tree.root.lookup(cs))) return undefined;
  const name = lexical.length > 0 ? lexical[lexical.length - 1]! : cs[cs.length - 1] ?? Buffer.from('');
  return { written: src, cs, name };
}

/** Explain a missing source that is a symlink pointing out of the tree. */
async function escapeHint(tree: SourceTree, src: string): Promise<string> {
  const cs = await tree.root.resolve(`/${src}`, { followFinal: false });
  const e = await tree.root.lookup(cs);
  if (!e?.stat.isSymbolicLink()) return '';
  const { readlink } = await import('node:fs/promises');
  const target = (await readlink(e.host)).toString();
  return ` (it is a symlink to ${JSON.stringify(target)}, which is not inside the ${tree.what})`;
}

/** How much longer than as written an expanded heredoc may get (each reference can add 1 MiB). */
const MAX_HEREDOC_GROWTH = 16 * MAX_EXPANSION;

function expandHeredoc(ctx: FsStepContext, state: StageState, content: string): string {
  const lookup = expansionLookup(state);
  let growth = 0;
  // Expand $VAR and ${VAR...} forms only; quotes in the text are content, not syntax.
  return content.replace(/\\\$|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g, (m) => {
    const out = m === '\\$' ? '$' : ctx.lex.processWord(m, lookup);
    growth += out.length - m.length;
    if (growth > MAX_HEREDOC_GROWTH) throw new ExpansionError(`the expanded heredoc is more than ${MAX_HEREDOC_GROWTH} characters longer than as written`);
    return out;
  });
}
