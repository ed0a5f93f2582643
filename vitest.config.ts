import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // pcscd/vpcd integration tests start real daemons; give them room on 2-core machines.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Both cores: vitest's default (one fork fewer than the cores) runs one file at a time here, and
    // most files wait on daemons, sockets and child processes rather than compute.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
