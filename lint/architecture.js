/**
 * ESLint rules for what the architecture promises about imports (eslint.config.js turns
 * them on). A package is a folder with a package.json; its public surface is what its
 * package.json exports, so other packages reach it by name, never by path.
 *
 * - `package-relative`: a relative import must stay inside the importing file's package
 *   (`../../layerstore/src/store.js` from the builder is an error).
 * - `package-edges`: an `@tsbuild/*` import must name one of the entry points the
 *   options allow (`allow: ['@tsbuild/layerstore']`); anything else, a deep path such as
 *   `@tsbuild/layerstore/dist/x.js` included, is an error.
 *
 * Both look at static imports, `export ... from`, and `import()` with a literal.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const roots = new Map();
/** The nearest folder above `dir` with a package.json (cached). */
function packageRoot(dir) {
  if (roots.has(dir)) return roots.get(dir);
  const parent = dirname(dir);
  const root = existsSync(join(dir, 'package.json')) || parent === dir ? dir : packageRoot(parent);
  roots.set(dir, root);
  return root;
}

/** Calls `check(node, specifier)` for every import with a literal specifier. */
function eachImport(check) {
  const source = (node) => {
    if (node.source?.type === 'Literal' && typeof node.source.value === 'string') check(node.source, node.source.value);
  };
  return { ImportDeclaration: source, ExportNamedDeclaration: source, ExportAllDeclaration: source, ImportExpression: source };
}

const packageRelative = {
  meta: {
    type: 'problem',
    docs: { description: 'relative imports stay inside their package; other packages are imported by name' },
    schema: [],
    messages: {
      leaves: "'{{spec}}' leaves the package {{from}} (into {{into}}); import the other package by name (@tsbuild/...)",
    },
  },
  create(context) {
    const dir = dirname(context.filename);
    const root = packageRoot(dir);
    return eachImport((node, spec) => {
      if (!spec.startsWith('.')) return;
      const target = resolve(dir, spec);
      if (target.startsWith(root + sep)) return;
      const cwd = context.cwd;
      context.report({ node, messageId: 'leaves', data: { spec, from: relative(cwd, root) || '.', into: relative(cwd, target) } });
    });
  },
};

const packageEdges = {
  meta: {
    type: 'problem',
    docs: { description: 'a package imports only the @tsbuild/* entry points its edges allow' },
    schema: [
      {
        type: 'object',
        properties: { allow: { type: 'array', items: { type: 'string' } } },
        required: ['allow'],
        additionalProperties: false,
      },
    ],
    messages: {
      forbidden: "'{{spec}}' is not an edge of this package (it may import: {{allowed}})",
    },
  },
  create(context) {
    const allow = context.options[0].allow;
    const allowed = allow.length ? allow.join(', ') : 'no @tsbuild/* package';
    return eachImport((node, spec) => {
      if (spec.startsWith('@tsbuild/') && !allow.includes(spec)) context.report({ node, messageId: 'forbidden', data: { spec, allowed } });
    });
  },
};

export default {
  meta: { name: 'tsbuild-architecture' },
  rules: { 'package-relative': packageRelative, 'package-edges': packageEdges },
};
