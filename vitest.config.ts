import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One Azurite (in memory, free ports) for the whole run; each test file isolates itself by name prefix.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    // A hook makes an app's tables and queues on the one shared Azurite, which a heavy file can keep busy: 60 s was
    // seen exceeded twice in full suites on a loaded 2-core machine (the same hooks take ~1 s alone).
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
