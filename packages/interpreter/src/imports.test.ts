// Guards the interpreter's module layout: no value import cycle among its source
// files (type-only imports are erased and may go both ways, as ops/* → cpu.ts does).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

/** The package's source files, tests left out (they import freely and nothing imports them). */
const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !/\.test(-helpers)?\.ts$/.test(e.name) ? [path] : [];
  });

/** The local files `text` imports or re-exports a value from (an import erased by the compiler is no edge). */
const valueImports = (file: string, text: string): string[] => {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const edges: string[] = [];
  const add = (spec: ts.Expression | undefined): void => {
    if (spec === undefined || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) return;
    edges.push(resolve(dirname(file), spec.text.replace(/\.js$/, '.ts')));
  };
  for (const s of source.statements) {
    if (ts.isImportDeclaration(s)) {
      const c = s.importClause;
      if (c === undefined)
        add(s.moduleSpecifier); // for its side effects
      else if (!c.isTypeOnly) {
        const named = c.namedBindings;
        const onlyTypes =
          c.name === undefined &&
          named !== undefined &&
          ts.isNamedImports(named) &&
          named.elements.every((e) => e.isTypeOnly);
        if (!onlyTypes) add(s.moduleSpecifier);
      }
    } else if (ts.isExportDeclaration(s) && !s.isTypeOnly) {
      const named = s.exportClause;
      const onlyTypes =
        named !== undefined && ts.isNamedExports(named) && named.elements.every((e) => e.isTypeOnly);
      if (!onlyTypes) add(s.moduleSpecifier);
    }
  }
  return edges;
};

/** Every cycle of value imports in `graph`, each as a path that starts and ends at the same file. */
const valueCycles = (graph: ReadonlyMap<string, readonly string[]>): string[][] => {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (s === undefined && graph.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
};

describe('module layout', () => {
  it('has no value import cycle among the source files', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(10);
    const graph = new Map(files.map((f) => [f, valueImports(f, readFileSync(f, 'utf8'))]));
    const cycles = valueCycles(graph).map((c) => c.map((f) => relative(SRC, f)).join(' → '));
    expect(cycles).toEqual([]);
  });

  it('sees a value cycle, and no cycle through type-only imports', () => {
    const a = '/p/a.ts';
    const b = '/p/b.ts';
    const cycle = new Map([
      [a, valueImports(a, "import { Next } from './b.js';\nimport type { X } from './c.js';")],
      [b, valueImports(b, "import { type Cpu, Stop } from './a.js';")],
    ]);
    expect(valueCycles(cycle)).toEqual([[a, b, a]]);
    const typesOnly = new Map([
      [a, valueImports(a, "import { Next } from './b.js';")],
      [
        b,
        valueImports(
          b,
          "import type { Cpu } from './a.js';\nimport { type Stop } from './a.js';\nexport type { Y } from './a.js';",
        ),
      ],
    ]);
    expect(valueCycles(typesOnly)).toEqual([]);
  });
});
