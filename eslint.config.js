// `npm run lint`. The rules are about what the architecture promises, not style:
// - packages import each other by name, never by a relative path out of the package;
// - the package edges: builder -> {layerstore, executor}; layerstore and executor import
//   no other @tsbuild package but errors; every package may import @tsbuild/errors (the
//   root of the typed errors), which imports none; test code (*.test.ts, src/testing/)
//   may also import the `/testing` entry of a package its package may use; the
//   end-to-end tests (test/) use all;
// - libraries never print: no console and no process.stdout/stderr in errors, layerstore,
//   executor, or the builder outside its CLI (src/cli.ts, src/cli/, src/progress/);
// - only entry points exit: process.exit in the CLI entry (builder src/cli.ts) and the
//   sandbox worker thread (executor src/worker.ts) and the chroot runner process (src/chroot/runner.ts), which end themselves after their one run.
// Plus typescript-eslint's `recommended` set, which the tree passes as it is.
// The import rules themselves are in lint/architecture.js.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import architecture from './lint/architecture.js';

const testCode = ['**/*.test.ts', '**/src/testing/**'];
// Every package may import the root of the typed errors.
const edges = (allow) => ({ 'tsbuild/package-edges': ['error', { allow: ['@tsbuild/errors', ...allow] }] });

export default defineConfig([
  { ignores: ['**/dist/**', '**/node_modules/**', 'fixtures/**'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { tsbuild: architecture },
    rules: {
      'tsbuild/package-relative': 'error',
      // tsc's noUnusedLocals and noUnusedParameters own this rule (and allow the `_` names).
      '@typescript-eslint/no-unused-vars': 'off',
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'only the CLI entry and the sandbox worker exit; throw a typed error instead' }],
    },
  },
  { files: ['packages/builder/src/cli.ts', 'packages/executor/src/worker.ts', 'packages/executor/src/chroot/runner.ts'], rules: { 'no-restricted-properties': 'off' } },

  // The package edges. The errors package is the leaf: it imports no @tsbuild package.
  { files: ['packages/errors/**'], rules: { 'tsbuild/package-edges': ['error', { allow: [] }] } },
  { files: ['packages/layerstore/**', 'packages/executor/**'], rules: edges([]) },
  { files: ['packages/builder/**'], rules: edges(['@tsbuild/layerstore', '@tsbuild/executor']) },
  {
    files: testCode.map((glob) => `packages/builder/${glob}`),
    rules: edges(['@tsbuild/layerstore', '@tsbuild/executor', '@tsbuild/layerstore/testing', '@tsbuild/executor/testing']),
  },
  {
    files: ['test/**'],
    rules: edges(['@tsbuild/builder', '@tsbuild/layerstore', '@tsbuild/executor', '@tsbuild/layerstore/testing', '@tsbuild/executor/testing']),
  },

  // Libraries never print: they emit events, the CLI's renderers draw them.
  {
    files: ['packages/errors/src/**', 'packages/layerstore/src/**', 'packages/executor/src/**', 'packages/builder/src/**'],
    ignores: ['**/*.test.ts', 'packages/builder/src/cli.ts', 'packages/builder/src/cli/**', 'packages/builder/src/progress/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name=/^std(out|err)$/]",
          message: 'a library does not write to the terminal: emit an event or return the text',
        },
      ],
    },
  },
]);
