// Limits that keep hostile or broken sources from crashing the assembler or
// producing programs that cannot run: page sizes, nesting depth, long chains.
import { Op } from '@keyvm/isa';
import { describe, expect, it } from 'vitest';
import { assembleWithPageLimit } from './assemble.js';
import { AssemblyError, type AssemblyErrorCode, assemble } from './index.js';
import { MAX_NESTING } from './parser.js';
import { MAX_PAGE_WORDS } from './program.js';

function failure(run: () => unknown): AssemblyError {
  try {
    run();
  } catch (e) {
    if (e instanceof AssemblyError) return e;
    throw e;
  }
  throw new Error('expected an AssemblyError');
}

const where = (e: AssemblyError): [number, number, AssemblyErrorCode][] =>
  e.diagnostics.map((d) => [d.line, d.col, d.code]);

const { PUSH, ADD, NEG, HALT } = Op;

describe('the page limit', () => {
  it("is 2^24 words (apps/cli checks that it equals the core's largest data page)", () => {
    expect(MAX_PAGE_WORDS).toBe(2 ** 24);
  });

  const full = '.zero 1048576\n'.repeat(16);

  it('fills the data page up to 2^24 words exactly', () => {
    expect(assemble(`${full}end: HALT`).data.length).toBe(MAX_PAGE_WORDS);
  });

  it('refuses the .zero that crosses it, at that directive, once', () => {
    const e = failure(() => assemble(`${full}.zero 1048576\n.zero 5\nHALT`, { file: 'big.ism' }));
    expect(where(e)).toEqual([[17, 1, 'page-overflow']]);
    expect(e.format()).toBe(
      [
        'big.ism:17:1: error: the data page would grow to 17825792 words, past the largest page (16777216 words)',
        '.zero 1048576',
        '^',
      ].join('\n'),
    );
  });

  it('refuses .data at the operand and .string at the directive that cross it', () => {
    expect(where(failure(() => assemble(`${full}.data 1, 2`)))).toEqual([[17, 7, 'page-overflow']]);
    const almost = `${'.zero 1048576\n'.repeat(15)}.zero 1048575\n`;
    expect(Array.from(assemble(`${almost}.string "a"`).data.subarray(-2))).toEqual([0, 0x61]);
    expect(where(failure(() => assemble(`${almost}x: .string0 "a"`)))).toEqual([[17, 4, 'page-overflow']]);
  });

  it('holds for data at a smaller limit too, label addresses staying inside the page', () => {
    expect(Array.from(assembleWithPageLimit('.zero 6\n.data 1, 2', {}, 8).data)).toEqual([
      0, 0, 0, 0, 0, 0, 1, 2,
    ]);
    const e = failure(() => assembleWithPageLimit('.zero 6\nx: .zero 3\ny: .data 1', {}, 8));
    expect(where(e)).toEqual([[2, 4, 'page-overflow']]);
  });

  it('refuses code past the page: instructions, pushes, immediates and .word', () => {
    const code = (source: string, limit: number) => Array.from(assembleWithPageLimit(source, {}, limit).code);
    expect(code('add(1, 2)', 5)).toEqual([PUSH, 1, PUSH, 2, ADD]);
    expect(where(failure(() => assembleWithPageLimit('add(1, 2)', {}, 4)))).toEqual([
      [1, 1, 'page-overflow'],
    ]);
    expect(where(failure(() => assembleWithPageLimit('HALT\nadd(1, 2)', {}, 4)))).toEqual([
      [2, 8, 'page-overflow'],
    ]);
    expect(where(failure(() => assembleWithPageLimit('HALT\nPUSH 1 2\nHALT', {}, 1)))).toEqual([
      [2, 1, 'wrong-immediates'],
      [3, 1, 'page-overflow'],
    ]);
    expect(where(failure(() => assembleWithPageLimit('push(1, 2, 3)', {}, 5)))).toEqual([
      [1, 12, 'page-overflow'],
    ]);
    // Reported once; later address marks do not complain about the words left out.
    const e = failure(() => assembleWithPageLimit('.word 1, 2, 3\nHALT\n0005: HALT', {}, 2));
    expect(where(e)).toEqual([[1, 13, 'page-overflow']]);
    expect(code('.word 1, 2\nHALT', 3)).toEqual([1, 2, HALT]);
  });
});

describe('nesting', () => {
  const nested = (n: number, inner = '1') => `${'neg('.repeat(n)}${inner}${')'.repeat(n)}`;

  it(`takes expressions ${MAX_NESTING} calls deep`, () => {
    expect(Array.from(assemble(nested(MAX_NESTING)).code)).toEqual([
      PUSH,
      1,
      ...Array(MAX_NESTING).fill(NEG),
    ]);
  });

  it('refuses deeper ones with a located diagnostic, far past the old stack overflow', () => {
    const e = failure(() => assemble(nested(MAX_NESTING + 1), { file: 'dn.ism' }));
    expect(where(e)).toEqual([[1, 4 * MAX_NESTING + 1, 'too-deep']]);
    expect(e.diagnostics[0]!.message).toBe('expression nested too deeply (more than 256 levels)');
    for (const n of [3000, 100_000]) {
      expect(where(failure(() => assemble(`HALT\n${nested(n)}\nfoo`)))).toEqual([
        [2, 4 * MAX_NESTING + 1, 'too-deep'],
        [3, 1, 'unknown-instruction'],
      ]);
    }
  });

  it('refuses deep nesting in flat operands, directives and unclosed calls without crashing', () => {
    const deep = nested(50_000);
    for (const source of [
      `PUSH ${deep}`,
      `ADD ${deep}`,
      `.word ${deep}`,
      `.const X ${deep}`,
      `add(1, ${deep})`,
    ]) {
      expect(failure(() => assemble(source)).diagnostics.map((d) => d.code)).toContain('too-deep');
    }
    const unclosed = failure(() => assemble(`${'neg('.repeat(50_000)}1\nx: HALT`));
    expect(unclosed.diagnostics[0]).toMatchObject({ code: 'unbalanced-parens', line: 1, col: 4 });
    expect(unclosed.diagnostics.filter((d) => d.code === 'too-deep')).toHaveLength(1);
    expect(unclosed.diagnostics).toHaveLength(MAX_NESTING + 2); // every open call is unclosed
    expect(() => assemble('('.repeat(20_000) + ')'.repeat(20_000))).toThrow(AssemblyError);
  });

  it('spreads deep nesting over lines like any call', () => {
    const source = `${'neg(\n'.repeat(MAX_NESTING)}1${'\n)'.repeat(MAX_NESTING)}`;
    expect(assemble(source).code.length).toBe(2 + MAX_NESTING);
  });
});

describe('long chains', () => {
  it('resolves a constant defined from the one before, 100000 long', () => {
    const lines = ['.const c0 7'];
    for (let i = 1; i < 100_000; i++) lines.push(`.const c${i} c${i - 1}`);
    lines.push('c99999');
    expect(Array.from(assemble(lines.join('\n')).code)).toEqual([PUSH, 7]);
  });

  it('reports a chain written backwards, without recursion', () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(`.const c${i} c${i + 1}`);
    lines.push('.const c20000 1');
    const e = failure(() => assemble(lines.join('\n')));
    expect(e.diagnostics).toHaveLength(20_000);
    expect(e.diagnostics[0]!.message).toBe("constant 'c1' must be defined before this .const");
  });

  it('resolves 100000 forward label references', () => {
    const source = `${'jump(:end)\n'.repeat(100_000)}end: HALT`;
    const code = assemble(source).code;
    expect(code[1]).toBe(300_000);
    expect(code.length).toBe(300_001);
  });
});
