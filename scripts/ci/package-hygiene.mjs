// Release hygiene of every public workspace package: licence files, what `files`
// ships, engines, repository, publishConfig, prepack, CHANGELOG, and the planned
// first version. `--fix` writes the package.json fields and copies LICENSE; the
// check (no flag) prints every problem and exits 1 if there is one.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicPackages, ROOT, rootPackage } from './workspace.mjs';

export const FILES = [
  'dist',
  'src',
  '!src/**/*.test.ts',
  '!dist/**/*.test.*',
  '!src/**/*.test-helpers.ts',
  '!dist/**/*.test-helpers.*',
  '!src/test-support.ts',
  '!dist/test-support.*',
  '!dist/**/*.tsbuildinfo',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
];
export const PREPACK = 'node ../../scripts/prepack.mjs';

/** The fields every public package.json must have, given the root's. */
function expectedFields(pkg, root) {
  return {
    license: 'MIT',
    files: FILES,
    engines: root.engines,
    repository: { ...root.repository, directory: pkg.path },
    publishConfig: { access: 'public' },
  };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export function checkHygiene({ fix = false, root = ROOT } = {}) {
  const problems = [];
  const rootJson = rootPackage(root);
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');
  if (!/^MIT License/.test(license)) problems.push('LICENSE at the root is not the MIT licence');
  for (const pkg of publicPackages(root)) {
    const where = `${pkg.path} (${pkg.name})`;
    const json = pkg.json;
    let changed = false;
    for (const [field, want] of Object.entries(expectedFields(pkg, rootJson))) {
      if (same(json[field], want)) continue;
      if (fix) {
        json[field] = want;
        changed = true;
      } else problems.push(`${where}: package.json "${field}" should be ${JSON.stringify(want)}`);
    }
    if (json.scripts?.prepack !== PREPACK) {
      if (fix) {
        json.scripts = { ...json.scripts, prepack: PREPACK };
        changed = true;
      } else problems.push(`${where}: scripts.prepack should be "${PREPACK}" (build before packing)`);
    }
    if (changed) writeFileSync(join(pkg.dir, 'package.json'), `${JSON.stringify(json, null, 2)}\n`);
    const licenseFile = join(pkg.dir, 'LICENSE');
    if (!existsSync(licenseFile) || readFileSync(licenseFile, 'utf8') !== license) {
      if (fix) copyFileSync(join(root, 'LICENSE'), licenseFile);
      else problems.push(`${where}: LICENSE missing or not the root's`);
    }
    for (const doc of ['README.md', 'CHANGELOG.md'])
      if (!existsSync(join(pkg.dir, doc))) {
        if (fix && doc === 'CHANGELOG.md') writeFileSync(join(pkg.dir, doc), `# ${pkg.name}\n`);
        else problems.push(`${where}: ${doc} missing`);
      }
    if (!/^\d+\.\d+\.\d+$/.test(json.version ?? ''))
      problems.push(`${where}: version ${json.version} is not x.y.z`);
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = checkHygiene({ fix: process.argv.includes('--fix') });
  for (const p of problems) console.error(`package hygiene: ${p}`);
  if (problems.length > 0) process.exit(1);
  console.log(`package hygiene: ${publicPackages().length} public packages OK`);
}
