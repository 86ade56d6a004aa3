// Root test configuration: one vitest project per workspace package. Tests run
// against each package's TypeScript source through the `@keyvm/source` export
// condition, so no build is needed before testing.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'scripts'],
  },
});
