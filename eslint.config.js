import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** What the sync core (shared/sync/) may not import: adapters and SDKs are wired in by shared/app/compose.ts. */
const syncOutward = {
  group: ['**/store/**', '**/providers/**', '**/telemetry/**', '**/admin/**', '**/http/**', '**/cli/**', '**/host/**', '**/app/**', '**/functions/**', '@azure/*', '@okta/*', '@microsoft/*'],
  message: 'The sync core uses ports (shared/sync/ports.ts, directory-source.ts, audit/audit-log.ts); adapters and edges depend on it, not the other way round.',
};

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
    // The rooms (ARCHITECTURE.md, "Code"): the sync core reaches no adapter, SDK or edge; its rules are pure.
    files: ['shared/sync/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [syncOutward] }] },
  },
  {
    files: ['shared/sync/rules/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [syncOutward, { group: ['../pipeline/*'], message: 'Rules are pure: the pipeline uses them, not the other way round.' }] }] },
  },
  {
    files: ['shared/sync/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [syncOutward, { group: ['./pipeline/*', './rules/*'], message: 'The shared words and ports of the sync depend on nothing in its rooms.' }] }] },
  },
  {
    // The edges that are allowed to: entry points, the CLI's I/O, scripts and tests.
    files: ['functions/main.ts', 'bin/**', 'bench/**', 'test/**', 'shared/host/**'],
    rules: { 'no-restricted-properties': 'off', 'no-console': 'off' },
  },
);
