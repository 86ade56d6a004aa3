// Bundle sizes of every platform-neutral public package (no `bin`): its main entry
// bundled for the browser by esbuild, minified, then gzipped (level 9); "alone"
// leaves the other @keyvm packages out (what this package adds; other libraries,
// like @noble/hashes, stay in), "with deps" includes everything it pulls in. Writes a table into each package README
// between the bundle-size markers (`--check` only compares). Uses dist: build first.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { publicPackages, ROOT } from './ci/workspace.mjs';

const esbuild = createRequire(join(ROOT, 'package.json'))('esbuild');
const START = '<!-- bundle-size:start -->';
const END = '<!-- bundle-size:end -->';
const kB = (n) => `${(n / 1024).toFixed(1)} kB`;

async function measure(pkg, external) {
  const result = await esbuild.build({
    stdin: { contents: `export * from '${pkg.name}';`, resolveDir: pkg.dir, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    external,
    logLevel: 'error',
  });
  const bytes = result.outputFiles[0].contents;
  return { min: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

const check = process.argv.includes('--check');
let stale = 0;
for (const pkg of publicPackages().filter((p) => p.json.bin === undefined)) {
  const others = publicPackages()
    .map((p) => p.name)
    .filter((n) => n !== pkg.name);
  const alone = await measure(pkg, others);
  const all = await measure(pkg, []);
  const deps = Object.keys(pkg.json.dependencies ?? {});
  const table = [
    START,
    '| bundle (esbuild, browser, minified) | minified | gzipped |',
    '| --- | ---: | ---: |',
    `| \`${pkg.name}\` alone | ${kB(alone.min)} | ${kB(alone.gzip)} |`,
    `| with its dependencies${deps.length ? ` (${deps.join(', ')})` : ''} | ${kB(all.min)} | ${kB(all.gzip)} |`,
    '',
    'Measured by `node scripts/bundle-sizes.mjs` (everything the main entry exports; a bundler',
    'that drops unused exports makes less).',
    END,
  ].join('\n');
  console.log(
    `${pkg.name}: alone ${kB(alone.min)} min, ${kB(alone.gzip)} gzip; with deps ${kB(all.min)} min, ${kB(all.gzip)} gzip`,
  );
  const readmeFile = join(pkg.dir, 'README.md');
  const readme = readFileSync(readmeFile, 'utf8');
  const at = readme.indexOf(START);
  const next =
    at >= 0
      ? readme.slice(0, at) + table + readme.slice(readme.indexOf(END) + END.length)
      : `${readme.trimEnd()}\n\n## Bundle size\n\n${table}\n`;
  if (next === readme) continue;
  if (check) stale++;
  else writeFileSync(readmeFile, next);
}
if (check && stale > 0) {
  console.error(`bundle sizes: ${stale} README tables are out of date; run node scripts/bundle-sizes.mjs`);
  process.exit(1);
}
