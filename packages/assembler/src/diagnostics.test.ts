import { describe, expect, it } from 'vitest';
import {
  ASSEMBLY_ERROR_CODES,
  AssemblyError,
  type AssemblyErrorCode,
  assemble,
  MAX_SHOWN_DIAGNOSTICS,
  shownName,
} from './index.js';

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

describe('what diagnostics show of the source', () => {
  /** The caret line's column, checked to sit under `char` in the echoed line above it. */
  const caretUnder = (formatted: string, char: string): number => {
    const [, shown, caret] = formatted.split('\n') as [string, string, string];
    expect(caret.endsWith('^')).toBe(true);
    expect(shown.slice(caret.length - 1, caret.length - 1 + char.length)).toBe(char);
    return caret.length - 1;
  };
  /** Control and bidi characters but tab and line feed: none may reach a terminal raw. */
  const rawControls = (text: string): string[] =>
    [...text].filter((ch) => {
      const c = ch.codePointAt(0)!;
      const control = (c < 0x20 && c !== 9 && c !== 10) || (c >= 0x7f && c <= 0x9f);
      return control || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
    });

  it('escapes control characters in messages and in the echoed line, caret aligned', () => {
    const out = report('PUSH 1\x1b[31mRED');
    expect(rawControls(out)).toEqual([]);
    expect(out).toMatchInlineSnapshot(`
      "prog.ism:1:1: error: PUSH takes 1 immediate, got 2
      PUSH 1\\x1B[31mRED
      ^
      prog.ism:1:7: error: unexpected character '\\x1B' (U+001B)
      PUSH 1\\x1B[31mRED
            ^
      prog.ism:1:8: error: unexpected character '['
      PUSH 1\\x1B[31mRED
                ^
      prog.ism:1:9: error: invalid number '31mRED'
      PUSH 1\\x1B[31mRED
                 ^"
    `);
    expect(report('HALT \0')).toMatchInlineSnapshot(`
      "prog.ism:1:6: error: unexpected character '\\0' (U+0000)
      HALT \\0
           ^"
    `);
    expect(report('HALT \u00a0')).toContain("unexpected character '\\xA0' (U+00A0)");
  });

  it('keeps the caret under the column after escaped characters', () => {
    const out = report('.string "\x01\u202e\u{10ffff}" @ ; \x1b[2J');
    expect(rawControls(out)).toEqual([]);
    expect(out.split('\n')[1]).toBe('.string "\\x01\\u{202E}\\u{10FFFF}" @ ; \\x1B[2J');
    caretUnder(out, '@');
    // The Diagnostic record keeps the line as written.
    expect(failure('HALT @ \x1b').diagnostics[0]!.sourceLine).toBe('HALT @ \x1b');
  });

  it('escapes what a message quotes from the source, and the file name', () => {
    expect(report('.string "\\\x1b"')).toContain("bad escape sequence '\\\\x1B'");
    expect(failure('HALT \x07').diagnostics[0]!.message).toBe("unexpected character '\\x07' (U+0007)");
    expect(failure('@', 'a\x1b]0;b.ism').format()).toMatch(/^a\\x1B\]0;b\.ism:1:1: error/);
    expect(failure('@', 'a\x1b]0;b.ism').message).toMatch(/^1 assembly error in a\\x1B\]0;b\.ism\n/);
  });

  it('shows a window of 120 characters around the column of a 4 MB line, caret aligned', () => {
    const n = 2_000_000;
    const out = report(`.string "${'a'.repeat(n)}" @ ; ${'b'.repeat(n)}`);
    expect(out.split('\n')[1]).toBe(`…${'a'.repeat(58)}" @ ; ${'b'.repeat(56)}…`);
    expect(caretUnder(out, '@')).toBe(61);
    expect(out.length).toBeLessThan(300);
    // Near either end of the line, the other side gets the rest of the window.
    const start = report(`@ ; ${'b'.repeat(n)}`).split('\n');
    expect(start[1]).toBe(`@ ; ${'b'.repeat(116)}…`);
    expect(start[2]).toBe('^');
    const end = report(`.string "${'a'.repeat(n)}" @`);
    expect(end.split('\n')[1]).toBe(`…${'a'.repeat(117)}" @`);
    expect(caretUnder(end, '@')).toBe(120);
  });

  it('counts escapes in the window width and keeps tabs', () => {
    const out = report(`.string "${'\x01'.repeat(500)}"\t@ ; ${'\x02'.repeat(500)}`);
    const [, shown] = out.split('\n') as [string, string, string];
    expect(shown.length).toBeLessThanOrEqual(122);
    expect(shown).toMatch(/^…(\\x01)+"\t@ ; (\\x02)+…$/);
    caretUnder(out, '@');
  });

  it('clips long names in messages', () => {
    const name = `a${'b'.repeat(1_000_000)}c`;
    const [d] = failure(`${name}: PUSH :${name}x`).diagnostics;
    expect(d!.message).toBe(`undefined label ':a${'b'.repeat(28)}…${'b'.repeat(27)}cx'`);
    expect(failure(`PUSH ${'9'.repeat(100_000)}`).diagnostics[0]!.message.length).toBeLessThan(100);
  });

  it('says a \\u{…} code point is out of range', () => {
    expect(report('.string "\\u{110000}"')).toMatchInlineSnapshot(`
      "prog.ism:1:10: error: code point \\u{110000} is out of range (the largest is \\u{10FFFF})
      .string "\\u{110000}"
               ^"
    `);
    expect(failure('.string "\\u{FFFFFFFFFFFF}"').diagnostics[0]!.message).toContain('out of range');
    expect(codes('.string "\\u{}" .string "\\u{12" .string "\\x4"')).toEqual([
      'bad-string',
      'bad-string',
      'bad-string',
    ]);
    expect(Array.from(assemble('.string "\\u{00000041}\\u{10FFFF}"').data)).toEqual([0x41, 0xdbff, 0xdfff]);
  });
});

describe('a flood of errors', () => {
  it(`shows the first ${MAX_SHOWN_DIAGNOSTICS} and counts the rest; the error keeps them all`, () => {
    const e = failure('BADOP 1\n'.repeat(250));
    expect(e.diagnostics).toHaveLength(250);
    const lines = e.format().split('\n');
    expect(lines.filter((l) => l.includes('error: unknown instruction'))).toHaveLength(MAX_SHOWN_DIAGNOSTICS);
    expect(lines.at(-1)).toBe('... and 150 more errors (250 in all)');
    expect(e.format(Number.POSITIVE_INFINITY).split('\n')).toHaveLength(3 * 250);
    expect(e.message).toContain(e.format());
  });
});

describe('shownName', () => {
  it('shows identifiers as they are and anything else quoted, escaped and cut', () => {
    expect(shownName('worker')).toBe('worker');
    expect(shownName('a.b$c_1')).toBe('a.b$c_1');
    expect(shownName('two words')).toBe('"two words"');
    expect(shownName('say "hi" \\ \x1b[31m')).toBe('"say \\"hi\\" \\\\ \\x1B[31m"');
    expect(shownName('')).toBe('""');
    expect(shownName('y'.repeat(65))).toBe(`"${'y'.repeat(64)}…"`);
  });
});
