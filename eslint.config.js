// ESLint flat config: `npx eslint .` (run by infra/test.sh and CI).
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * Code that runs inside Temporal's workflow sandbox (or is imported by it):
 * it must be deterministic and is bundled without Node's built-in modules.
 */
const SANDBOXED = ['workflows/**/*.ts', 'config/spec.ts', 'config/dag.ts', 'config/params.ts', 'config/json.ts', 'protocol/**/*.ts', 'storage/spec.ts', 'storage/s3Root.ts', 'storage/keyRules.ts'];
const SANDBOX_MESSAGE = "workflow code runs in Temporal's sandbox: no Node built-ins";

/** Every built-in as `x` and `node:x`, plus the node:-only ones older Nodes leave out of builtinModules. */
const NODE_ONLY = ['node:sea', 'node:sqlite', 'node:test', 'node:test/reporters'];
const builtinNames = [
  ...new Set([
    ...builtinModules.flatMap((m) => (m.startsWith('node:') ? [m] : [m, `node:${m}`])),
    ...NODE_ONLY,
  ]),
].sort();

export default defineConfig(
  {
    ignores: ['dist/', '.out/', '.venv-bench/', 'node_modules/', '.tools/', '.venv/', 'data/', 'coverage/', 'shared/'],
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner tracks itself.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // Stage kinds, activities and test doubles implement Promise-returning
      // interfaces; `async` without `await` is the plain way to do that and
      // also turns a synchronous throw into a rejection, so it is not a smell here.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a parameter or binding that is deliberately unused.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: SANDBOXED,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinNames.map((name) => ({ name, message: SANDBOX_MESSAGE })),
        },
      ],
    },
  },
);
