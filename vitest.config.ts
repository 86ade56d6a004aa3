// Root test configuration: one vitest project per workspace package. Tests run
// against each package's TypeScript source through the `@keyvm/source` export
// condition, so no build is needed before testing. Each project sets a generous
// testTimeout: the suite runs on shared, sometimes heavily loaded machines, where a
// property test that takes 2 s alone can take 20 s; speed is measured in benchmarks.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'scripts'],
  },
});
