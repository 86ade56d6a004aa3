// `pnpm publish -r --dry-run`: it must list exactly the public workspace packages,
// each with LICENSE, README.md, CHANGELOG.md and dist, and no test files; and the
// first release must be deliberate: a package still at 0.0.0 (never published)
// must be planned by the pending changesets as 0.1.0.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicPackages, ROOT, rootPackage } from './workspace.mjs';

export const FIRST_VERSION = '0.1.0';
const problems = [];
const expected = new Map(publicPackages().map((p) => [p.name, p]));

const pnpm = ['-y', rootPackage().packageManager];
const dry = spawnSync(
  'npx',
  [...pnpm, 'publish', '-r', '--dry-run', '--no-git-checks', '--config.ignore-scripts=true'],
  { cwd: ROOT, encoding: 'utf8' },
);
if (dry.status !== 0)
  problems.push(`pnpm publish -r --dry-run exited ${dry.status}:\n${dry.stdout}${dry.stderr}`);
const text = `${dry.stdout}\n${dry.stderr}`;
const listed = new Map();
for (const block of text.split(/npm notice 📦\s+/).slice(1)) {
  const [, name, version] = /^(@?[^@\s]+)@(\S+)/.exec(block) ?? [];
  const files = [...block.matchAll(/^npm notice [\d.]+[kMG]?B (\S+)$/gm)].map((m) => m[1]);
  listed.set(name, { version, files });
}
for (const name of expected.keys()) if (!listed.has(name)) problems.push(`${name} is not in the dry run`);
for (const [name, { files }] of listed) {
  if (!expected.has(name)) {
    problems.push(`${name} would be published but is not a public workspace package`);
    continue;
  }
  for (const need of [
    'LICENSE',
    'README.md',
    'CHANGELOG.md',
    'package.json',
    'dist/index.js',
    'dist/index.d.ts',
  ])
    if (!files.includes(need)) problems.push(`${name} would be published without ${need}`);
  const stray = files.filter((f) => /\.test\.|test-helpers|test-support|tsbuildinfo|fixtures/.test(f));
  if (stray.length > 0) problems.push(`${name} would publish test files: ${stray.join(', ')}`);
}

// The planned versions.
const out = join(mkdtempSync(join(tmpdir(), 'keyvm-changesets-')), 'status.json');
const status = spawnSync(join(ROOT, 'node_modules/.bin/changeset'), ['status', `--output=${out}`], {
  cwd: ROOT,
  encoding: 'utf8',
});
if (status.status !== 0) problems.push(`changeset status failed:\n${status.stdout}${status.stderr}`);
else {
  const releases = JSON.parse(readFileSync(out, 'utf8')).releases;
  for (const pkg of expected.values()) {
    if (pkg.json.version !== '0.0.0') continue;
    const planned = releases.find((r) => r.name === pkg.name)?.newVersion ?? '0.0.0';
    if (planned !== FIRST_VERSION)
      problems.push(
        `${pkg.name} is unreleased (0.0.0) and the pending changesets make it ${planned}, not ${FIRST_VERSION}`,
      );
  }
}
rmSync(join(out, '..'), { recursive: true, force: true });

if (problems.length > 0) {
  for (const p of problems) console.error(`publish check: ${p}`);
  process.exit(1);
}
console.log(
  `publish check: pnpm publish -r --dry-run lists exactly ${[...listed.keys()].join(', ')} ` +
    `(each with LICENSE, README.md, CHANGELOG.md, dist); first release ${FIRST_VERSION}`,
);
