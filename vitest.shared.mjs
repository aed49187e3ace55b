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
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.integration.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['src/**/*.integration.test.ts', 'test/**/*.integration.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Each file starts its own redis-server; two cores do not need more parallelism.
          maxWorkers: 2,
        },
      },
    ],
  },
});
