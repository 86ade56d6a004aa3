// The references check on small made-up workspaces: it passes one whose imports,
// dependencies and references agree, and names each kind of disagreement.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkReferences, importsOf } from './check-references.mjs';

let root;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(path, content) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

/** A workspace with packages a and b, where b's source imports a. */
function workspace({ bDeps = { '@x/a': 'workspace:^' }, bRefs = [{ path: '../a' }], bTypes = [] } = {}) {
  root = mkdtempSync(join(tmpdir(), 'keyvm-refs-'));
  write('pnpm-workspace.yaml', 'packages:\n  - packages/*\n');
  write('package.json', { name: 'root', private: true, devDependencies: { vitest: '1' } });
  write('tsconfig.json', { files: [], references: [{ path: 'packages/a' }, { path: 'packages/b' }] });
  const exports = { '.': { '@keyvm/source': './src/index.ts', default: './dist/index.js' } };
  write('packages/a/package.json', { name: '@x/a', version: '0.0.0', exports });
  write('packages/a/tsconfig.json', { compilerOptions: { types: [] }, include: ['src'] });
  write('packages/a/src/index.ts', 'export const a = 1;\n');
  write('packages/b/package.json', { name: '@x/b', version: '0.0.0', exports, dependencies: bDeps });
  write('packages/b/tsconfig.json', {
    compilerOptions: { types: bTypes },
    include: ['src'],
    exclude: ['src/**/*.test.ts'],
    references: bRefs,
  });
  write('packages/b/src/index.ts', "// b\nimport { a } from '@x/a';\nexport const b = a + 1;\n");
}

describe('check-references', () => {
  it('passes a workspace whose imports, dependencies and references agree', () => {
    workspace();
    expect(checkReferences(root)).toEqual([]);
  });

  it('catches a missing reference', () => {
    workspace({ bRefs: [] });
    expect(checkReferences(root)).toEqual([
      'packages/b: tsconfig.json compiles src/index.ts, which imports @x/a, but has no reference to ../a/tsconfig.json',
    ]);
  });

  it('catches a missing dependency, an unused one, an unused reference and Node types in a neutral package', () => {
    workspace({
      bDeps: { other: '1' },
      bRefs: [{ path: '../a' }, { path: '../../packages/a/tsconfig.json' }],
    });
    write('packages/b/tsconfig.json', {
      compilerOptions: { types: ['node'] },
      include: ['src'],
      references: [{ path: '../a' }],
    });
    write('packages/c/package.json', { name: '@x/c', version: '0.0.0', dependencies: { '@x/a': '1' } });
    write('packages/c/tsconfig.json', {
      include: ['src'],
      references: [{ path: '../a' }],
      compilerOptions: { types: [] },
    });
    write('packages/c/src/index.ts', 'export const c = 3;\n');
    const problems = checkReferences(root);
    expect(problems).toContain(
      'packages/b: src/index.ts imports @x/a, which is not in its package.json dependencies',
    );
    expect(problems).toContain('packages/b: depends on other but no source of it imports it');
    expect(problems).toContain(
      'packages/c: tsconfig.json references ../a/tsconfig.json, which nothing it compiles imports',
    );
    expect(problems).toContain(
      'packages/b: a platform-neutral package, so tsconfig.json must compile with "types": [] (has ["node"])',
    );
    expect(problems).toContain('tsconfig.json: the root solution does not build packages/c/tsconfig.json');
  });

  it('reads imports from statements, not from words in strings', () => {
    const text = [
      "import { a } from '@x/a';",
      'import type {',
      '  B,',
      "} from '@x/b';",
      "export * from '@x/c';",
      "import '@x/d';",
      "const e = await import('@x/e');",
      "it('records nothing without programs to name domains from', () => {});",
      "const s = 'words from \\'@x/f\\' here';",
      "import { g } from './local.js';",
    ].join('\n');
    expect(importsOf(text).sort()).toEqual(['@x/a', '@x/b', '@x/c', '@x/d', '@x/e']);
  });
});
