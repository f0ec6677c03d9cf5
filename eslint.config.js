import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', '**/node_modules/', 'benchmarks/results/'] },
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
    // The engine knows nothing of HTTP, adapters or the service.
    files: ['src/cache/**', 'src/memo/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/http/**', '**/adapters/**', '**/service/**', '**/client/**'] },
      ],
    },
  },
  {
    // Stores know nothing of the engine, memoization or HTTP.
    files: ['src/stores/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/memo/**', '**/http/**', '**/cache/**', '**/adapters/**'] },
      ],
    },
  },
  {
    // The client loads nothing of the engine, stores, bus or HTTP code: only Node, itself and the
    // wire format it shares with the service (protocol/).
    files: ['src/client/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./(?!protocol/)', message: 'The client loads only protocol/.' },
            { group: ['cachegraph', 'cachegraph/*', 'ioredis'] },
          ],
        },
      ],
    },
  },
  {
    // The wire format is plain data: it loads nothing, so the client can load it.
    files: ['src/protocol/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./', message: 'protocol/ imports nothing of the library.' },
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
