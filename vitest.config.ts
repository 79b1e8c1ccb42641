import { defineConfig } from 'vitest/config';

const stack = ['test/support/global-setup.ts'];

export default defineConfig({
  test: {
    pool: 'forks', // Temporal's native worker does not like worker threads
    teardownTimeout: 60_000,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'api', include: ['test/api/**/*.test.ts'], globalSetup: stack, testTimeout: 60_000 } },
      { test: { name: 'activity', include: ['test/activity/**/*.test.ts'], globalSetup: stack, testTimeout: 300_000, hookTimeout: 120_000, fileParallelism: false } },
      { test: { name: 'replay', include: ['test/replay/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'workflow', include: ['test/workflow/**/*.test.ts'], globalSetup: stack, testTimeout: 180_000 } },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: stack, testTimeout: 600_000, hookTimeout: 300_000, fileParallelism: false } },
      // docker-compose.yml as its own project: needs `scripts/setup.sh --compose`, not the test stack
      { test: { name: 'compose', include: ['test/compose/**/*.test.ts'], testTimeout: 900_000, hookTimeout: 1_200_000 } },
      // benchmarks on the test stack (npm run bench:failover): never part of `vitest run` / npm test
      ...(process.env.PGCP_BENCH === '1'
        ? [{ test: { name: 'bench', include: ['bench/**/*.bench.test.ts'], globalSetup: stack, testTimeout: 3_600_000, hookTimeout: 600_000, fileParallelism: false } }]
        : []),
    ],
  },
});
