// Lint rules that keep the project's invariants checked on every commit instead of remembered.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, with or without `node:`.
const nodeBuiltins = [
  ...new Set(builtinModules.flatMap((name) => [name, `node:${name}`, `${name}/*`, `node:${name}/*`])),
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.temporal/', '.real-model/', 'bench/peers/', 'test/histories/**/*.json'] },
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
    // Everything the workflow bundle can import: the workflows and the shared modules of src/, but the
    // one that finds the local dev server for configuration (no workflow code reaches it: lint.test.ts).
    files: ['workflows/**/*.ts', 'src/**/*.ts'],
    ignores: ['src/temporal-address.ts'],
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
    // Product code: a function fits on a screen, a file holds one idea (house style). Warnings, so a
    // reviewer sees a growing function before it lands; the files below are the known exceptions.
    files: ['{src,workflows,activities,client,runtime,codec,testing,agents}/**/*.ts', '*.ts'],
    rules: {
      'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true }],
      'max-lines': ['warn', { max: 400, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Known exceptions, each one idea that reads top to bottom:
    // - the activity factories close over their dependencies: each activity is a short method inside;
    // - the carried-state schema is one schema, built only when a run continues (zod costs every run);
    // - runStream is an async generator whose state (the run's last look, the chain) lives in its frame;
    // - startCodecServer is one request handler's checks in order (token, CORS, method, size, shape);
    files: [
      'activities/model.ts',
      'activities/tools.ts',
      'workflows/carried-state.ts',
      'client/run-stream.ts',
      'codec/server.ts',
    ],
    rules: { 'max-lines-per-function': 'off', 'max-lines': 'off' },
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
