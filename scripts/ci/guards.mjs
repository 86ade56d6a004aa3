// The release guards, in order (each prints one line when it passes): package
// hygiene, imports/dependencies/references, the publish dry run, and the packed
// consumers with the browser smoke test. Needs the packages built (`tsc -b`); runs
// every guard even after a failure and exits 1 if any failed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './workspace.mjs';

const GUARDS = ['package-hygiene.mjs', 'check-references.mjs', 'publish-check.mjs', 'packed-consumer.mjs'];
const started = Date.now();
let failed = 0;
for (const guard of GUARDS) {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/ci', guard)], { stdio: 'inherit', cwd: ROOT });
  if (r.status !== 0) failed++;
}
console.log(
  `release guards: ${GUARDS.length - failed} of ${GUARDS.length} passed in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(failed > 0 ? 1 : 0);
