import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * One vitest config for every package: unit tests (`*.test.ts`) and integration tests
 * (`*.integration.test.ts`, which start their own redis-server) are separate projects so that
 * `pnpm test` and `pnpm test:integration` can run them apart.
 */
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.integration.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // Runs after the unit project when both are selected (they differ in maxWorkers).
          sequence: { groupOrder: 1 },
          include: ['src/**/*.integration.test.ts', 'test/**/*.integration.test.ts'],
          // Prints once per run which server answered (FINRISK_REDIS_SERVER picks another).
          globalSetup: [fileURLToPath(new URL('./packages/test-utils/src/report-server.ts', import.meta.url))],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Each file starts its own redis-server; two cores do not need more parallelism.
          maxWorkers: 2,
        },
      },
    ],
  },
});
