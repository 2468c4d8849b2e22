import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Handlers read config once at cold start; isolate modules per file.
    isolate: true,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
