import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@keyvm/source'] },
  ssr: { resolve: { conditions: ['@keyvm/source'] } },
  test: { name: 'compiler', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 30_000 },
});
