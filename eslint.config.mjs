// Lint rules that keep the project's invariants checked on every commit instead of remembered.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, with or without `node:`.
const nodeBuiltins = [
  ...new Set(builtinModules.flatMap((name) => [name, `node:${name}`, `${name}/*`, `node:${name}/*`])),
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.temporal/', 'bench/peers/', 'test/histories/**/*.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            '*.mjs',
            '*.js',
            'bin/*.js',
            'scripts/*.js',
            'test/fixtures/*.mjs',
            'test/fixtures/*.js',
          ],
          // The plain-JS files above (config, bin, plug-in fixtures) outnumber the default of 8.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
      },
    },
    rules: {
      // A forgotten `await` on an activity, a timer or `condition` is a real bug in a workflow.
      '@typescript-eslint/no-floating-promises': 'error',
      // `import type` stays a type import: a runtime import of activities would pull Node into the workflow bundle.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Everything the workflow bundle can import: the workflows and the shared modules of src/.
    files: ['workflows/**/*.ts', 'src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: nodeBuiltins,
              message:
                'workflow code and the modules it imports must not use Node built-ins (Temporal runs workflows in a deterministic sandbox)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', 'require', '__dirname', '__filename', 'setImmediate'].map((name) => ({
          name,
          message: 'not available in the workflow sandbox: do I/O in an activity',
        })),
      ],
    },
  },
  {
    // The CLI's commands are registered by small functions, each a screen at most: keep it so.
    files: ['cli/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
