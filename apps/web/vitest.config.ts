import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@keyvm/source'] },
  ssr: { resolve: { conditions: ['@keyvm/source'] } },
  // The e2e suite (test/) drives the built site in Debian Chromium; it builds the site itself.
  test: {
    name: 'web',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
