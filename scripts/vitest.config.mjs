// Tests of the repository's own scripts (the CI guards).
import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'scripts', include: ['ci/**/*.test.mjs'], testTimeout: 60_000 },
});
