// Each workspace package's imports, package.json dependencies and tsconfig
// references must agree: every package it imports is a dependency, every
// dependency is imported, and every workspace package it imports is a project
// reference (of the tsconfig that compiles the importing file, to the tsconfig
// that compiles the imported entry). tsc -b from the root builds a package that
// lacks a reference when another reference happens to build the dependency
// first; this check does not let that pass. Platform-neutral packages (public,
// without a `bin`) must compile with `types: []`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT, workspacePackages } from './workspace.mjs';

const TEST_FILE = /(\.test\.ts|\.test-helpers\.ts|\/test-support\.ts)$/;

/** tsconfig JSON (comments and trailing commas allowed), with `extends` followed for compilerOptions.types. */
function readTsconfig(file) {
  const text = readFileSync(file, 'utf8');
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    // Comments and trailing commas (outside strings: a glob like "src/**/*.ts" holds "/*").
    const stripped = text.replace(/("(?:[^"\\]|\\.)*")|\/\*[\s\S]*?\*\/|\/\/.*$/gm, (_m, str) => str ?? '');
    json = JSON.parse(stripped.replace(/,(\s*[}\]])/g, '$1'));
  }
  if (json.extends && json.compilerOptions?.types === undefined) {
    const base = readTsconfig(resolve(dirname(file), json.extends));
    json.compilerOptions = { ...json.compilerOptions, types: base.compilerOptions?.types };
  }
  return json;
}

/** A tsconfig include/exclude pattern as a RegExp over paths relative to the tsconfig's directory. */
function patternRegExp(pattern) {
  const p = pattern.replace(/^\.\//, '');
  const re = p
    .split('/')
    .map((part) =>
      part === '**' ? '(?:.*/)?' : `${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}/`,
    )
    .join('')
    .replace(/\(\?:\.\*\/\)\?\//g, '(?:.*/)?')
    .replace(/\/$/, '');
  // A directory includes everything under it.
  return new RegExp(`^${re}(?:/.*)?$`);
}

/** The package's projects: { file, dir, include: RegExp[], exclude: RegExp[], references: absolute tsconfig paths, types }. */
function projectsOf(pkg) {
  return readdirSync(pkg.dir)
    .filter((f) => /^tsconfig(\.[\w-]+)?\.json$/.test(f))
    .map((f) => {
      const file = join(pkg.dir, f);
      const json = readTsconfig(file);
      return {
        file,
        name: f,
        include: (json.include ?? []).filter((p) => !p.startsWith('..')).map(patternRegExp),
        exclude: (json.exclude ?? []).map(patternRegExp),
        references: (json.references ?? []).map((r) => {
          const target = resolve(pkg.dir, r.path);
          return target.endsWith('.json') ? target : join(target, 'tsconfig.json');
        }),
        types: json.compilerOptions?.types,
      };
    });
}

const covers = (project, relPath) =>
  project.include.some((r) => r.test(relPath)) && !project.exclude.some((r) => r.test(relPath));

/** Source files under src/ (relative to the package), recursively. */
function sourceFiles(dir, base = dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full, base);
    return /\.(ts|mts|tsx)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [relative(base, full)] : [];
  });
}

/**
 * Bare module specifiers a file imports (static, dynamic, re-exports, type-only
 * included). A static import or re-export is a statement: it starts a line, so
 * words in strings (a test named "… from 'x' …") are not taken for imports.
 */
export function importsOf(text) {
  const specs = new Set();
  const patterns = [
    /^[ \t]*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"\n]+)['"]/gm,
    /^[ \t]*import\s*['"]([^'"\n]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.add(m[1]);
  return [...specs].filter((s) => !s.startsWith('.') && !s.startsWith('#'));
}

const packageName = (spec) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
const isBuiltin = (spec) => spec.startsWith('node:') || builtinModules.includes(spec);

/** The source file a specifier of a workspace package resolves to (its `@keyvm/source` export). */
function exportSource(dep, spec) {
  const sub = spec === dep.name ? '.' : `.${spec.slice(dep.name.length)}`;
  const entry = dep.json.exports?.[sub];
  const target = typeof entry === 'string' ? entry : (entry?.['@keyvm/source'] ?? entry?.default);
  return typeof target === 'string' ? target.replace(/^\.\//, '') : undefined;
}

export function checkReferences(root = ROOT) {
  const problems = [];
  const packages = workspacePackages(root);
  const byName = new Map(packages.map((p) => [p.name, p]));
  const rootJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const rootDev = new Set(Object.keys(rootJson.devDependencies ?? {}));
  for (const pkg of packages) {
    const where = pkg.path;
    const projects = projectsOf(pkg);
    const deps = new Set([
      ...Object.keys(pkg.json.dependencies ?? {}),
      ...Object.keys(pkg.json.peerDependencies ?? {}),
    ]);
    const devDeps = new Set(Object.keys(pkg.json.devDependencies ?? {}));
    const usedByShipped = new Set();
    const needed = new Map(); // project file -> Set of referenced tsconfig files needed
    for (const file of sourceFiles(join(pkg.dir, 'src'))) {
      const rel = `src/${file.split('\\').join('/')}`;
      const owners = projects.filter((p) => covers(p, rel));
      if (owners.length !== 1) {
        problems.push(
          `${where}: ${rel} is compiled by ${owners.length} tsconfigs (${owners.map((p) => p.name).join(', ') || 'none'}), not one`,
        );
        continue;
      }
      const owner = owners[0];
      const isTest = TEST_FILE.test(rel);
      for (const spec of importsOf(readFileSync(join(pkg.dir, rel), 'utf8'))) {
        if (isBuiltin(spec)) continue;
        const name = packageName(spec);
        if (name === pkg.name) continue;
        if (!isTest || pkg.isPrivate) usedByShipped.add(name);
        if (deps.has(name) || (isTest && (devDeps.has(name) || rootDev.has(name)))) {
          // declared
        } else
          problems.push(`${where}: ${rel} imports ${spec}, which is not in its package.json dependencies`);
        const dep = byName.get(name);
        if (dep === undefined) continue;
        const source = exportSource(dep, spec);
        if (source === undefined) {
          problems.push(`${where}: ${rel} imports ${spec}, which ${name}'s exports map does not offer`);
          continue;
        }
        const target = projectsOf(dep).find((p) => covers(p, source));
        if (target === undefined) continue;
        if (!needed.has(owner.file)) needed.set(owner.file, new Set());
        needed.get(owner.file).add(target.file);
        if (!owner.references.includes(target.file))
          problems.push(
            `${where}: ${owner.name} compiles ${rel}, which imports ${spec}, but has no reference to ${relative(pkg.dir, target.file)}`,
          );
      }
    }
    for (const name of Object.keys(pkg.json.dependencies ?? {}))
      if (!usedByShipped.has(name))
        problems.push(`${where}: depends on ${name} but no source of it imports it`);
    for (const project of projects) {
      const wanted = needed.get(project.file) ?? new Set();
      for (const ref of project.references) {
        const own = dirname(ref) === pkg.dir;
        if (!own && !wanted.has(ref))
          problems.push(
            `${where}: ${project.name} references ${relative(pkg.dir, ref)}, which nothing it compiles imports`,
          );
        if (!existsSync(ref))
          problems.push(
            `${where}: ${project.name} references ${relative(pkg.dir, ref)}, which does not exist`,
          );
      }
    }
    const neutral = !pkg.isPrivate && pkg.json.bin === undefined;
    const main = projects.find((p) => p.name === 'tsconfig.json');
    if (neutral && main && !(Array.isArray(main.types) && main.types.length === 0))
      problems.push(
        `${where}: a platform-neutral package, so tsconfig.json must compile with "types": [] (has ${JSON.stringify(main.types)})`,
      );
  }
  // The root solution must build every project of every package.
  const solution = readTsconfig(join(root, 'tsconfig.json'));
  const built = new Set(
    (solution.references ?? []).map((r) => {
      const t = resolve(root, r.path);
      return t.endsWith('.json') ? t : join(t, 'tsconfig.json');
    }),
  );
  for (const pkg of packages)
    for (const p of projectsOf(pkg))
      if (
        !built.has(p.file) &&
        !packages.some((q) => projectsOf(q).some((o) => o.references.includes(p.file) && built.has(o.file)))
      )
        problems.push(`tsconfig.json: the root solution does not build ${relative(root, p.file)}`);
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = checkReferences();
  for (const p of problems) console.error(`references: ${p}`);
  if (problems.length > 0) process.exit(1);
  console.log(
    `references: imports, dependencies and tsconfig references agree in ${workspacePackages().length} packages`,
  );
}
