// Every package's `prepack` (run by `pnpm pack` and `pnpm publish`): remove the
// package's dist and build it again from its sources, so a clean checkout never
// publishes without dist and a stale file (a renamed or deleted module, a test
// build) never ships. Builds every tsconfig*.json of the package but the tests'.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const projects = readdirSync('.').filter(
  (f) => /^tsconfig(\.[\w-]+)?\.json$/.test(f) && f !== 'tsconfig.test.json',
);
rmSync('dist', { recursive: true, force: true });
// tsc -b keeps its build state beside each tsconfig; without it, it rebuilds.
for (const f of readdirSync('.')) if (f.endsWith('.tsbuildinfo')) rmSync(f);
const r = spawnSync(process.execPath, [tsc, '-b', ...projects], { stdio: 'inherit' });
process.exit(r.status ?? 1);
