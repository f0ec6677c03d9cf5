import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', '**/node_modules/', 'benchmarks/results/', '**/.next/'] },
  js.configs.recommended,
  {
    // TypeScript sources: type-aware rules.
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Plain JavaScript (examples, benchmarks, configs) runs on Node as is: no type information.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The engine knows nothing of HTTP, adapters, the service or a particular store.
    files: ['src/cache/**', 'src/memo/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/http/**',
            '**/adapters/**',
            '**/service/**',
            '**/client/**',
            '**/protocol/**',
            '**/redis/**',
          ],
        },
      ],
    },
  },
  {
    // Stores know nothing of the engine, memoization or HTTP.
    files: ['src/stores/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/memo/**',
            '**/http/**',
            '**/cache/**',
            '**/adapters/**',
            '**/service/**',
            '**/client/**',
          ],
        },
      ],
    },
  },
  {
    // The bus contract: plain types over the store contract.
    files: ['src/bus/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/memo/**',
            '**/http/**',
            '**/cache/**',
            '**/adapters/**',
            '**/service/**',
            '**/client/**',
            '**/redis/**',
          ],
        },
      ],
    },
  },
  {
    // Redis (store, cluster, bus) implements the store and bus contracts; it knows nothing of the
    // engine, memoization or HTTP (durations come from the shared util/duration.ts).
    files: ['src/redis/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/memo/**',
            '**/http/**',
            '**/adapters/**',
            '**/service/**',
            '**/client/**',
            '**/protocol/**',
            '**/cache/**',
          ],
        },
      ],
    },
  },
  {
    // The HTTP core uses the engine through its public entry (`../index.js`) only: settings,
    // reportError, entity tags; durations come from the shared util/duration.ts.
    files: ['src/http/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/adapters/**',
            '**/service/**',
            '**/client/**',
            '**/cache/**',
            '**/memo/**',
            '**/stores/**',
            '**/bus/**',
          ],
        },
      ],
    },
  },
  {
    // Adapters are thin: the engine's public entry and the HTTP core, nothing else of the
    // library — stores, the bus and Redis only through the HTTP core.
    files: ['src/adapters/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/cache/**',
            '**/memo/**',
            '**/stores/**',
            '**/bus/**',
            '**/redis/**',
            '**/service/**',
            '**/client/**',
            '**/protocol/**',
          ],
        },
      ],
    },
  },
  {
    // OpenTelemetry hears the engine on its public tracing channels and reads `stats()` of the
    // caches it is given: the public entry's types, nothing else of the library.
    files: ['src/otel/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!index\\.js$)',
              message: 'cachegraph/otel loads only the public entry (../index.js), for its types.',
            },
          ],
        },
      ],
    },
  },
  {
    // The prom-client collector reads `stats()` into the text exporter's metric families.
    files: ['src/prometheus/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!index\\.js$|errors\\.js$|http/metric-families\\.js$)',
              message:
                'cachegraph/prometheus loads the public entry, errors.js and the metric families.',
            },
          ],
        },
      ],
    },
  },
  {
    // The service is the HTTP core's admin API and the protocol over the public engine: stores,
    // the bus and Redis are the host's choice (the CLI's), never the handler's.
    files: ['src/service/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/cache/**',
            '**/memo/**',
            '**/adapters/**',
            '**/client/**',
            '**/stores/**',
            '**/bus/**',
            '**/redis/**',
          ],
        },
      ],
    },
  },
  {
    // The client loads nothing of the engine, stores, bus or HTTP code: only Node, itself, the
    // wire format it shares with the service (protocol/) and the two leaf modules every part of
    // the library shares — the error type (errors.ts) and the coded warnings (warnings.ts).
    files: ['src/client/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!protocol/|errors\\.js$|warnings\\.js$)',
              message: 'The client loads only protocol/, errors.js and warnings.js.',
            },
            { group: ['cachegraph', 'cachegraph/*', 'ioredis'] },
          ],
        },
      ],
    },
  },
  {
    // The wire format is plain data, the error type and the warnings registry are leaves: they
    // load nothing of the library, so the client can load them without the engine.
    files: ['src/protocol/**', 'src/errors.ts', 'src/warnings.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./',
              message: 'protocol/, errors.ts and warnings.ts import nothing of the library.',
            },
            { group: ['cachegraph', 'cachegraph/*', 'ioredis'] },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/unbound-method': 'off',
      // Test doubles stand in for async APIs without awaiting anything themselves.
      '@typescript-eslint/require-await': 'off',
    },
  },
  prettier,
)
