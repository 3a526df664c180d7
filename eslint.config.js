import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Triggers and use cases never read the environment: config comes through composeApp.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read settings through shared/config (composeApp).' }],
      'no-console': 'error',
    },
  },
  {
    // The edges that are allowed to: entry points, the CLI's I/O, scripts and tests.
    files: ['functions/main.ts', 'bin/**', 'bench/**', 'test/**', 'shared/host/**'],
    rules: { 'no-restricted-properties': 'off', 'no-console': 'off' },
  },
);
