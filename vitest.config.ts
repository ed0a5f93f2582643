import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // pcscd/vpcd integration tests start real daemons; give them room on 2-core machines.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
