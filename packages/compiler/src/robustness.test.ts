// Compiler robustness: random and mutated sources give diagnostics or a program,
// never an exception; pathological shapes (deep nesting, long chains, huge
// literals) are refused with a diagnostic instead of exhausting the host's stack.
import { readdirSync, readFileSync } from 'node:fs';
import { Machine } from '@keyvm/interpreter';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import { CompileError } from './diagnostics.js';
import { prng, randomProgram } from './generate.test-helpers.js';

const SEED = Number(process.env.KEYVM_SEED ?? 20261206);
const DIR = new URL('../test/golden/', import.meta.url);
const corpus = [
  ...readdirSync(DIR)
    .filter((f) => f.endsWith('.kl'))
    .map((f) => readFileSync(new URL(f, DIR), 'utf8')),
  ...Array.from({ length: 20 }, (_, i) => randomProgram(i)),
];

const PIECES = [
  'def',
  'domain',
  'typ',
  'var',
  'const',
  'int',
  'bool',
  'string',
  'page',
  'rpage',
  'meter',
  'if',
  'elif',
  'else',
  'while',
  'for',
  `from`,
  'to',
  'step',
  'return',
  'print',
  'spawn',
  'import',
  'and',
  'or',
  'not',
  'x',
  'y',
  'f',
  'len',
  'readonly',
  '(',
  ')',
  '[',
  ']',
  ':',
  ',',
  '.',
  '=',
  '==',
  '+',
  '-',
  '*',
  '/',
  '%',
  '->',
  '<',
  '"s"',
  '"',
  '0',
  '1',
  '4294967296',
  '\n',
  '\n    ',
  '\n        ',
  ' ',
  '\t',
  '#',
  '\\',
  '\u202e',
  '€',
];

/** Compiles and, when it compiles, runs briefly: only CompileError may come out. */
function survive(source: string): void {
  let program: ReturnType<typeof compile>['program'];
  try {
    program = compile(source, { file: 'fuzz.kl' }).program;
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    expect(e.diagnostics.length + e.dropped).toBeGreaterThan(0);
    for (const d of e.diagnostics) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.col).toBeGreaterThanOrEqual(1);
    }
    expect(typeof e.format()).toBe('string');
    return;
  }
  const m = Machine.boot(program, { time: 2000, stackSize: 256, jit: false });
  m.run();
}

function mutate(source: string, seed: number): string {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  let s = source;
  const edits = 1 + int(4);
  for (let i = 0; i < edits; i++) {
    const at = int(s.length + 1);
    const r = rnd();
    if (r < 0.3) s = s.slice(0, at) + s.slice(at + 1 + int(5));
    else if (r < 0.6) s = s.slice(0, at) + PIECES[int(PIECES.length)]! + s.slice(at);
    else if (r < 0.8) {
      const lines = s.split('\n');
      const j = int(lines.length);
      lines.splice(int(lines.length), 0, lines[j] ?? '');
      s = lines.join('\n');
    } else {
      const lines = s.split('\n');
      const j = int(lines.length);
      lines[j] = (rnd() < 0.5 ? '  ' : '') + (lines[j] ?? '').replace(/^ {4}/, '');
      s = lines.join('\n');
    }
  }
  return s;
}

describe('compiler robustness', () => {
  it('2,500 random token soups give diagnostics, never an exception', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }), (pieces) => {
        survive(pieces.join(' '));
      }),
      { seed: SEED, numRuns: 2500 },
    );
  }, 30_000);

  it('2,500 mutated programs give diagnostics or run, never an exception', () => {
    fc.assert(
      fc.property(fc.nat(corpus.length - 1), fc.integer(), (i, seed) => {
        survive(mutate(corpus[i]!, seed));
      }),
      { seed: SEED + 1, numRuns: 2500 },
    );
  }, 30_000);

  it('refuses pathological nesting with a diagnostic', () => {
    const cases = [
      `var int x = ${'('.repeat(100_000)}1${')'.repeat(100_000)}\n`,
      `var int x = ${'-'.repeat(100_000)}1\n`,
      `var int[] x = ${'['.repeat(50_000)}\n`,
      `var int x = 1\n${Array.from({ length: 200 }, (_, i) => `${'    '.repeat(i)}if x > 0:\n`).join('')}`,
      `var int x = 1\nif x == 0:\n    pass\n${'elif x == 1:\n    pass\n'.repeat(5000)}`,
      `print(${'1 + '.repeat(50_000)}1)\n`,
      `var int x = 99999999999999999999999999999999999999999999\n`,
      `${'x'.repeat(100_000)} = 1\n`,
    ];
    for (const source of cases) {
      expect(() => compile(source), source.slice(0, 40)).toThrow(CompileError);
    }
  }, 30_000);

  it('reports every error in the file, in order', () => {
    const source = 'var int a = true\nvar bool b = 1\nprint(c)\n';
    try {
      compile(source, { file: 'three.kl' });
      expect.unreachable();
    } catch (e) {
      expect((e as CompileError).diagnostics.map((d) => `${d.line}:${d.col}`)).toEqual([
        '1:13',
        '2:14',
        '3:7',
      ]);
    }
  });
});
