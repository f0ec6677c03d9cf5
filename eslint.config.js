import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'benchmarks/node_modules/', 'benchmarks/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'benchmarks/*.js'] } },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The engine knows nothing of HTTP, adapters or the service; stores know nothing of memoization.
    files: ['src/cache/**', 'src/stores/**', 'src/memo/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/http/**', '**/adapters/**', '**/service/**', '**/client/**'] },
      ],
    },
  },
  {
    files: ['src/stores/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/memo/**', '**/http/**', '**/cache/**'] }],
    },
  },
  {
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
)
