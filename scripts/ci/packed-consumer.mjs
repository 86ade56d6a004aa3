// Packed-consumer test: pack every public package, check each tarball's contents
// and types (attw, ESM-only profile), install the tarballs into temporary projects
// outside the workspace (npm, one project per package with only what it declares),
// run a small program per package combination, typecheck a consumer under
// moduleResolution node16 and bundler (no @types/node for the neutral entries),
// run the version-skew layout (image with its own copy of core), then the browser
// smoke test on the installed packages.
//   node scripts/ci/packed-consumer.mjs [--prepack] [--keep]
// --prepack packs with the prepack script (a clean build per package); by default
// packing skips it and uses the dist that `pnpm test` has just built.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserSmoke } from './browser-smoke.mjs';
import { publicPackages, ROOT, rootPackage } from './workspace.mjs';

/** pnpm as the README runs it: the version the root package.json pins. */
const PNPM = ['npx', '-y', rootPackage().packageManager];
const prepack = process.argv.includes('--prepack');
const keep = process.argv.includes('--keep');
const started = Date.now();
const say = (msg) => console.log(`packed consumer [${((Date.now() - started) / 1000).toFixed(1)}s]: ${msg}`);
const requireRoot = createRequire(join(ROOT, 'package.json'));
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.status !== 0) {
    throw new Error(
      `${[cmd, ...args].join(' ')} (in ${options.cwd ?? process.cwd()}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`,
    );
  }
  return r.stdout;
}

/** The version-skew program: interpreter on the top-level core, image on its own copy. */
const SKEW = `import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Store } from '@keyvm/core';
import { instructionByName } from '@keyvm/isa';
import { Machine } from '@keyvm/interpreter';
import { decodeImage, encodeImage } from '@keyvm/image';
const versionOf = (from) => {
  const main = createRequire(join(process.cwd(), 'node_modules', from, 'package.json')).resolve('@keyvm/core');
  return [main, JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')).version];
};
const [interpreterCore, v1] = versionOf('@keyvm/interpreter');
const [imageCore, v2] = versionOf('@keyvm/image');
assert.notEqual(interpreterCore, imageCore, 'image must have its own copy of core');
assert.equal(v2, '0.2.0');
const op = (n) => instructionByName(n).code;
// 1+2+...+200 in a loop, then HALT.
const code = [op('PUSH'), 0, op('PUSH'), 200, // acc n
  op('SWAP'), op('OVER'), op('ADD'), op('SWAP'), op('PUSH'), 1, op('SUB'), // acc+n n-1   (loop at 4)
  op('DUP'), op('PUSH'), 4, op('SWAP'), op('JUMPIF'), op('DROP'), op('HALT')];
const whole = Machine.boot({ code });
whole.run();
const first = Machine.boot({ code });
assert.equal(first.run({ maxSteps: 500 }).status, 'paused');
const decoded = decodeImage(encodeImage(first.store)); // a store of image's copy of core
assert.ok(!(decoded instanceof Store), 'the decoded store is of the other copy');
const machine = new Machine(decoded);
const r = machine.run();
assert.equal(r.status, 'halted');
assert.deepEqual(machine.stack(), whole.stack());
// A guest fault thrown by the other copy's store is a fault of the guest, not a crash.
const bad = Machine.boot({ code: [op('PUSH'), 8, op('PUSH'), 1073741824, op('PAGESIZESET')] });
const faulting = new Machine(decodeImage(encodeImage(bad.store)));
const f = faulting.run();
assert.equal(f.status, 'fault', JSON.stringify(f));
console.log(JSON.stringify({ interpreterCore: v1, imageCore: v2, sum: machine.stack(), fault: f.fault }));
`;

/** Run a command to its end without blocking: { status, stdout, stderr }. */
function runAsync(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const work = mkdtempSync(join(tmpdir(), 'keyvm-consumer-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

try {
  // ---- pack ---------------------------------------------------------------------
  const packages = publicPackages();
  const packed = new Map(); // name -> { file, json }
  run(
    PNPM[0],
    [
      ...PNPM.slice(1),
      '-r',
      ...packages.flatMap((p) => ['--filter', p.name]),
      'pack',
      '--pack-destination',
      tarballs,
      ...(prepack ? [] : ['--config.ignore-scripts=true']),
    ],
    { cwd: ROOT },
  );
  for (const pkg of packages) {
    const stem = `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.json.version}.tgz`;
    const file = readdirSync(tarballs).find((f) => f === stem);
    if (file === undefined) throw new Error(`pnpm pack made no ${stem}`);
    const entries = execFileSync('tar', ['-tzf', join(tarballs, file)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    const json = JSON.parse(
      execFileSync('tar', ['-xzOf', join(tarballs, file), 'package/package.json'], { encoding: 'utf8' }),
    );
    packed.set(pkg.name, { file: join(tarballs, file), json, entries });
    for (const need of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/index.js',
      'dist/index.d.ts',
    ])
      check(entries.includes(`package/${need}`), `${pkg.name}: the tarball lacks ${need}`);
    const stray = entries.filter((e) => /\.test\.|test-helpers|test-support|tsbuildinfo|fixtures/.test(e));
    check(stray.length === 0, `${pkg.name}: the tarball ships test files: ${stray.join(', ')}`);
    const ranges = JSON.stringify({ ...json.dependencies, ...json.peerDependencies });
    check(!ranges.includes('workspace:'), `${pkg.name}: workspace: ranges left in the packed package.json`);
  }
  say(`packed ${packages.length} packages${prepack ? ' (prepack: clean builds)' : ''}`);

  // ---- attw (are the types wrong), ESM-only profile ---------------------------------
  await Promise.all(
    [...packed].map(async ([name, { file }]) => {
      const r = await runAsync(bin('attw'), [file, '--profile', 'esm-only', '--format', 'ascii']);
      check(r.status === 0, `${name}: attw --profile esm-only found problems:\n${r.stdout}${r.stderr}`);
    }),
  );
  say('attw --profile esm-only: no problems in any package');

  // ---- install per package (only what it declares) and run -------------------------
  /** The @keyvm packages `name` needs, itself included (from the packed package.json files). */
  const closure = (name, seen = new Set()) => {
    if (seen.has(name) || !packed.has(name)) return seen;
    seen.add(name);
    for (const dep of Object.keys(packed.get(name).json.dependencies ?? {})) closure(dep, seen);
    for (const dep of Object.keys(packed.get(name).json.peerDependencies ?? {})) closure(dep, seen);
    return seen;
  };
  const project = (dirName, names, programs) => {
    const dir = join(work, dirName);
    mkdirSync(dir);
    const dependencies = {};
    for (const n of new Set(names.flatMap((n) => [...closure(n)])))
      dependencies[n] = `file:${packed.get(n).file}`;
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: `consumer-${dirName}`, private: true, type: 'module', dependencies }),
    );
    for (const [file, text] of Object.entries(programs)) writeFileSync(join(dir, file), text);
    return dir;
  };
  const install = async (dir) => {
    const args = [
      'install',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      '--loglevel=error',
      '--prefer-offline',
    ];
    const r = await runAsync('npm', args, { cwd: dir });
    if (r.status !== 0) throw new Error(`npm install in ${dir} failed:\n${r.stdout}${r.stderr}`);
  };

  const ASSERT = "import assert from 'node:assert/strict';\n";
  const programs = {
    '@keyvm/isa': `${ASSERT}import { INSTRUCTIONS, instructionByName } from '@keyvm/isa';
assert.ok(INSTRUCTIONS.length >= 21); assert.equal(instructionByName('ADD').name, 'ADD');`,
    '@keyvm/core': `${ASSERT}import { PageType, Store } from '@keyvm/core';
const s = new Store(); const page = s.createPage(PageType.data, s.meterKey(s.primeMemory, true), 4);
s.writeWord(page, 2, -7); assert.equal(s.readWord(page, 2), -7);`,
    '@keyvm/assembler': `${ASSERT}import { assemble, decodeProgram, disassembleProgram, encodeProgram } from '@keyvm/assembler';
const p = assemble('add(1,2)\\n'); assert.deepEqual(decodeProgram(encodeProgram(p)).code, p.code);
assert.match(disassembleProgram(p), /ADD/);`,
    '@keyvm/interpreter': `${ASSERT}import { instructionByName } from '@keyvm/isa';
import { Machine } from '@keyvm/interpreter';
const op = (n) => instructionByName(n).code;
const m = Machine.boot({ code: [op('PUSH'), 40, op('PUSH'), 2, op('ADD')] });
assert.equal(m.run().status, 'halted'); assert.deepEqual(m.stack(), [42]);`,
    '@keyvm/image': `${ASSERT}import { tmpdir } from 'node:os'; import { join } from 'node:path';
import { PageType, Store } from '@keyvm/core';
import { decodeImage, encodeImage, imageHash, readImageHeader } from '@keyvm/image';
import { loadImageFile, saveImageFile } from '@keyvm/image/node';
const s = new Store(); s.createPage(PageType.data, s.meterKey(s.primeMemory, true), 4);
const bytes = encodeImage(s); assert.equal(imageHash(encodeImage(decodeImage(bytes))), imageHash(bytes));
assert.equal(readImageHeader(bytes).length, bytes.length);
const file = join(tmpdir(), 'keyvm-consumer-' + process.pid + '.kvmi');
await saveImageFile(file, bytes, { compress: true });
assert.equal(imageHash(encodeImage(await loadImageFile(file))), imageHash(bytes));`,
    '@keyvm/cli': `${ASSERT}import { execFileSync } from 'node:child_process';
const out = execFileSync('node_modules/.bin/keyvm', ['run', process.argv[2]], { encoding: 'utf8' });
assert.match(out, /Hello, KeyVM!/);`,
  };
  /** For a package without a program of its own (a new one): every entry of its exports map imports and exports something. */
  const generic = (name) => {
    const subpaths = Object.keys(packed.get(name).json.exports ?? { '.': null });
    const specs = subpaths.map((s) => (s === '.' ? name : `${name}/${s.replace(/^\.\//, '')}`));
    return `${ASSERT}for (const spec of ${JSON.stringify(specs)}) assert.ok(Object.keys(await import(spec)).length > 0, spec);`;
  };
  const single = [];
  for (const name of packed.keys()) {
    if (programs[name] === undefined)
      say(`${name}: no program of its own in packed-consumer.mjs; importing its entries`);
    const dir = project(name.replace('@keyvm/', ''), [name], { 'main.mjs': programs[name] ?? generic(name) });
    single.push({ name, dir });
  }
  await Promise.all(single.map(({ dir }) => install(dir)));
  for (const { name, dir } of single) {
    const r = spawnSync(process.execPath, ['main.mjs', join(ROOT, 'examples/hello.ism')], {
      cwd: dir,
      encoding: 'utf8',
    });
    check(r.status === 0, `${name}: its consumer program failed:\n${r.stderr}`);
    const installed = readdirSync(join(dir, 'node_modules/@keyvm'))
      .map((n) => `@keyvm/${n}`)
      .sort();
    check(
      JSON.stringify(installed) === JSON.stringify([...closure(name)].sort()),
      `${name}: installed ${installed}, expected ${[...closure(name)]}`,
    );
  }
  say(
    `installed and ran ${single.map((s) => s.name.replace('@keyvm/', '')).join(', ')}, each alone with what it declares`,
  );

  // ---- all together: types under node16 and bundler, no @types/node ----------------------
  const all = project('all', [...packed.keys()], {
    'check.ts': `import { INSTRUCTIONS } from '@keyvm/isa';
import { type GuestFault, PageType, Store } from '@keyvm/core';
import { assemble, type Program } from '@keyvm/assembler';
import { Machine, type MachineApi, type RunResult } from '@keyvm/interpreter';
import { decodeImage, encodeImage, ImageError, type ImageHeader, readImageHeader, type Where } from '@keyvm/image';
const program: Program = assemble('add(1,2)\\n');
const machine: MachineApi = Machine.boot(program, { onJitRefused: (e: Error) => void e });
const result: RunResult = machine.run();
const header: ImageHeader = readImageHeader(encodeImage(machine.store));
const where: Where = { section: 'header', offset: 0 };
const store: Store = decodeImage(encodeImage(new Store()));
export const used = [INSTRUCTIONS.length, result.status, header.version, where, store, new ImageError('bad-magic', where, 'x'), PageType.data] as const;
export type Fault = GuestFault;
`,
    'check-node.ts': `import { loadImageFile, saveImageFile, TemporaryFileError } from '@keyvm/image/node';
export const used = [loadImageFile, saveImageFile, TemporaryFileError];
`,
  });
  const skew = project('skew', ['@keyvm/interpreter', '@keyvm/image'], { 'main.mjs': SKEW });
  await Promise.all([install(all), install(skew)]);
  const tsc = requireRoot.resolve('typescript/bin/tsc');
  const typeRoots = join(ROOT, 'node_modules/@types');
  const tsconfigs = {
    node16: { module: 'node16', moduleResolution: 'node16' },
    bundler: { module: 'esnext', moduleResolution: 'bundler' },
  };
  for (const [label, resolution] of Object.entries(tsconfigs)) {
    for (const [files, types] of [
      [['check.ts'], []],
      ...(label === 'node16' ? [[['check-node.ts'], ['node']]] : []),
    ]) {
      const options = {
        ...resolution,
        target: 'es2022',
        lib: ['es2022'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        exactOptionalPropertyTypes: true,
        types,
        typeRoots: [typeRoots],
      };
      writeFileSync(join(all, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files }));
      const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: all, encoding: 'utf8' });
      check(
        r.status === 0,
        `types (${label}, ${files}, types ${JSON.stringify(types)}) fail:\n${r.stdout}${r.stderr}`,
      );
    }
  }
  say('a consumer typechecks under node16 and bundler; the neutral entries without @types/node');

  // ---- version skew: image with its own copy of core --------------------------------
  // The layout npm makes when image asks for a core that the top-level copy does not satisfy.
  const nested = join(skew, 'node_modules/@keyvm/image/node_modules/@keyvm/core');
  cpSync(join(skew, 'node_modules/@keyvm/core'), nested, { recursive: true, dereference: true });
  const nestedJson = JSON.parse(readFileSync(join(nested, 'package.json'), 'utf8'));
  writeFileSync(join(nested, 'package.json'), JSON.stringify({ ...nestedJson, version: '0.2.0' }, null, 2));
  const skewRun = spawnSync(process.execPath, ['main.mjs'], { cwd: skew, encoding: 'utf8' });
  check(
    skewRun.status === 0,
    `version skew: new Machine(decodeImage(bytes)) across two copies of core failed:\n${skewRun.stderr}`,
  );
  if (skewRun.status === 0)
    say(`version skew (interpreter on one core, image on its own copy): ${skewRun.stdout.trim()}`);

  // ---- the browser, from the installed packages ---------------------------------------
  await browserSmoke({ resolveDir: all, workDir: join(work, 'browser'), log: (m) => say(m) });
} catch (e) {
  failures.push(e instanceof Error ? e.message : String(e));
} finally {
  if (keep) console.log(`packed consumer: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (failures.length > 0) {
  for (const f of failures) console.error(`packed consumer: FAILED: ${f}`);
  process.exit(1);
}
say('all checks passed');
