import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
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
    // The web console runs in a browser: its globals, React's rules of hooks, and only the HTTP API to talk to.
    files: ['console/src/**'],
    languageOptions: { globals: globals.browser },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+(shared|functions)/', allowTypeImports: true, message: 'The console reaches the app through its HTTP API only (types may be imported).' }] }],
    },
  },
  {
    // The edges that are allowed to: entry points, the CLI's I/O, scripts and tests.
    files: ['functions/main.ts', 'bin/**', 'bench/**', 'test/**', 'shared/host/**', 'console/vite.config.ts'],
    rules: { 'no-restricted-properties': 'off', 'no-console': 'off' },
  },
);
