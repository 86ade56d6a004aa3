import { describe, expect, it } from 'vitest';
import { ASSEMBLY_ERROR_CODES, AssemblyError, type AssemblyErrorCode, assemble } from './index.js';

/** Assembles a source that must fail and returns its error. */
function failure(source: string, file = 'prog.ism'): AssemblyError {
  try {
    assemble(source, { file });
  } catch (e) {
    if (e instanceof AssemblyError) return e;
    throw e;
  }
  throw new Error('expected an AssemblyError');
}

const report = (source: string): string => failure(source).format();
const codes = (source: string): AssemblyErrorCode[] => failure(source).diagnostics.map((d) => d.code);

describe('error messages', () => {
  it('unknown instruction, with a did-you-mean from the ISA table', () => {
    expect(report('PUSH 1\n  ADDD 1 2')).toMatchInlineSnapshot(`
      "prog.ism:2:3: error: unknown instruction 'ADDD'; did you mean 'ADD'?
        ADDD 1 2
        ^"
    `);
    expect(report('jmp(:x) x:')).toMatchInlineSnapshot(`
      "prog.ism:1:1: error: unknown instruction 'jmp'; did you mean 'JUMP'?
      jmp(:x) x:
      ^"
    `);
    expect(report('frobnicate()')).toMatchInlineSnapshot(`
      "prog.ism:1:1: error: unknown instruction 'frobnicate'
      frobnicate()
      ^"
    `);
  });

  it('a bare name that is a label, not an instruction', () => {
    expect(report('loop: loop')).toMatchInlineSnapshot(`
      "prog.ism:1:7: error: unknown instruction 'loop'; did you mean the label ':loop'?
      loop: loop
            ^"
    `);
  });

  it('wrong number of immediates', () => {
    expect(report('PUSH')).toMatchInlineSnapshot(`
      "prog.ism:1:1: error: PUSH takes 1 immediate, got 0
      PUSH
      ^"
    `);
    expect(report('PUSH 1 2')).toMatchInlineSnapshot(`
      "prog.ism:1:1: error: PUSH takes 1 immediate, got 2
      PUSH 1 2
      ^"
    `);
    expect(report('push()')).toMatchInlineSnapshot(`
      "prog.ism:1:1: error: push() needs at least 1 immediate
      push()
      ^"
    `);
    expect(report('PUSH add(1,2)')).toMatchInlineSnapshot(`
      "prog.ism:1:6: error: an immediate of PUSH must be a number, a :label or a constant, not an instruction
      PUSH add(1,2)
           ^"
    `);
  });

  it('undefined and duplicate labels', () => {
    expect(report('loop:\n\tjump(:lop)')).toMatchInlineSnapshot(`
      "prog.ism:2:7: error: undefined label ':lop'; did you mean ':loop'?
      	jump(:lop)
      	     ^"
    `);
    expect(report('a: HALT\n  a: HALT')).toMatchInlineSnapshot(`
      "prog.ism:2:3: error: duplicate label 'a' (first defined at 1:1)
        a: HALT
        ^"
    `);
  });

  it('undefined, duplicate and reserved constants', () => {
    expect(report('.const SIZE 4\nPUSH SIZ')).toMatchInlineSnapshot(`
      "prog.ism:2:6: error: undefined constant 'SIZ'; did you mean 'SIZE'?
      PUSH SIZ
           ^"
    `);
    expect(report('.const A 1\n.const A 2')).toMatchInlineSnapshot(`
      "prog.ism:2:8: error: duplicate constant 'A' (first defined at 1:8)
      .const A 2
             ^"
    `);
    expect(report('.const add 1')).toMatchInlineSnapshot(`
      "prog.ism:1:8: error: 'add' is an instruction and cannot name a constant
      .const add 1
             ^"
    `);
    expect(report('.zero N\n.const N 2')).toMatchInlineSnapshot(`
      "prog.ism:1:7: error: constant 'N' must be defined before this .zero
      .zero N
            ^"
    `);
  });

  it('numbers outside 32 bits and malformed numbers', () => {
    expect(report('add(1, 4294967296)')).toMatchInlineSnapshot(`
      "prog.ism:1:8: error: number 4294967296 is outside 32 bits
      add(1, 4294967296)
             ^"
    `);
    expect(report('PUSH 12abc')).toMatchInlineSnapshot(`
      "prog.ism:1:6: error: invalid number '12abc'
      PUSH 12abc
           ^"
    `);
  });

  it('unbalanced parentheses', () => {
    expect(report('add(1, 2\nHALT')).toMatchInlineSnapshot(`
      "prog.ism:1:4: error: unclosed '('
      add(1, 2
         ^"
    `);
    expect(report('add(1, 2))')).toMatchInlineSnapshot(`
      "prog.ism:1:10: error: unmatched ')'
      add(1, 2))
               ^"
    `);
    expect(report('add(1 2)')).toMatchInlineSnapshot(`
      "prog.ism:1:7: error: expected ',' between arguments
      add(1 2)
            ^"
    `);
  });

  it('directives and strings', () => {
    expect(report('.dat 1')).toMatchInlineSnapshot(`
      "prog.ism:1:1: error: unknown directive '.dat'; did you mean '.data'?
      .dat 1
      ^"
    `);
    expect(report('.string "abc')).toMatchInlineSnapshot(`
      "prog.ism:1:9: error: unterminated string
      .string "abc
              ^"
    `);
    expect(report('.string "a\\qb"')).toMatchInlineSnapshot(`
      "prog.ism:1:11: error: bad escape sequence '\\q' (use \\n \\t \\r \\0 \\\\ \\" \\xHH or \\u{H…})
      .string "a\\qb"
                ^"
    `);
    expect(report('.data "x"')).toMatchInlineSnapshot(`
      "prog.ism:1:7: error: .data takes numbers, :labels and constants, not a string (use .string)
      .data "x"
            ^"
    `);
    expect(report('.zero -1')).toMatchInlineSnapshot(`
      "prog.ism:1:7: error: .zero count must be from 0 to 1048576, got -1
      .zero -1
            ^"
    `);
  });

  it('syntax errors', () => {
    expect(report('HALT @')).toMatchInlineSnapshot(`
      "prog.ism:1:6: error: unexpected character '@'
      HALT @
           ^"
    `);
    expect(report('DUP ADD')).toMatchInlineSnapshot(`
      "prog.ism:1:5: error: 'ADD' is an instruction: put it on its own line, or write add() to use its result as an operand
      DUP ADD
          ^"
    `);
    expect(report('add(1, nop)')).toMatchInlineSnapshot(`
      "prog.ism:1:8: error: instruction 'nop' needs parentheses to be an argument: nop()
      add(1, nop)
             ^"
    `);
  });

  it('an address mark that does not match', () => {
    expect(report('0000: PUSH 1\n0001: HALT')).toMatchInlineSnapshot(`
      "prog.ism:2:1: error: address mark 0001: does not match the code offset 2
      0001: HALT
      ^"
    `);
  });

  it('puts the caret under tabs as the source line has them', () => {
    expect(report('\t\tPUSH\t0x1FFFFFFFF')).toMatchInlineSnapshot(`
      "prog.ism:1:8: error: number 0x1FFFFFFFF is outside 32 bits
      		PUSH	0x1FFFFFFFF
      		    	^"
    `);
  });
});

describe('AssemblyError', () => {
  it('reports every problem in the file, in source order', () => {
    const error = failure(
      ['jump(:missing)', 'ADDD 1 2', 'add(1,0', 'PUSH 99999999999', 'x: x:', '.bogus', 'HALT)'].join('\n'),
    );
    expect(error.diagnostics.map((d) => [d.line, d.col, d.code])).toEqual([
      [1, 6, 'undefined-label'],
      [2, 1, 'unknown-instruction'],
      [3, 4, 'unbalanced-parens'],
      [4, 6, 'number-range'],
      [5, 4, 'duplicate-label'],
      [6, 1, 'unknown-directive'],
      [7, 5, 'unbalanced-parens'],
    ]);
    expect(error.message).toContain('7 assembly errors in prog.ism');
    expect(error.message).toContain(error.format());
  });

  it('carries typed diagnostics with the source line', () => {
    const [d] = failure('  SUBB 1', 'f.ism').diagnostics;
    expect(d).toEqual({
      code: 'unknown-instruction',
      message: "unknown instruction 'SUBB'; did you mean 'SUB'?",
      file: 'f.ism',
      line: 1,
      col: 3,
      sourceLine: '  SUBB 1',
    });
  });

  it('names <input> when no file is given, and handles CRLF lines', () => {
    try {
      assemble('HALT\r\nBAD\r\n');
    } catch (e) {
      expect((e as AssemblyError).format()).toBe("<input>:2:1: error: unknown instruction 'BAD'\nBAD\n^");
    }
    expect.assertions(1);
  });

  it('uses only codes from the catalogue', () => {
    const all = codes('jmp 1\n.const ADD 1\n"s"\n)');
    for (const code of all) expect(Object.keys(ASSEMBLY_ERROR_CODES)).toContain(code);
  });
});
