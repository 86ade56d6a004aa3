import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@keyvm/source'] },
  ssr: { resolve: { conditions: ['@keyvm/source'] } },
  // The CLI tests spawn the built command (run `tsc -b` first), several per test, concurrently.
  test: { name: 'cli', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 60_000 },
});
