import { INSTRUCTIONS, Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssemblyError, assemble } from './index.js';

const words = (source: string): number[] => Array.from(assemble(source).code);
const { PUSH, ADD, SUB, JUMP, JUMPIF, HALT, PAGEWRITE, PAGEREAD } = Op;

describe('the KeyVM seed example', () => {
  const source = 'add(1,0)\nstart:\nadd(1,1)\njump(:start)\n';

  it('assembles to KeyVM’s words with labels as word offsets', () => {
    const program = assemble(source);
    expect(Array.from(program.code)).toEqual([0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 5, 17]);
    expect(program.labels).toEqual([{ name: 'start', address: 5, section: 'code' }]);
  });

  it('reads the same written on one line', () => {
    expect(words('add(1,0) start: add(1,1) jump(:start)')).toEqual(words(source));
  });

  it('maps every instruction start to its line and column', () => {
    expect(assemble(source).sourceMap).toEqual([
      { pc: 0, line: 1, col: 5 },
      { pc: 2, line: 1, col: 7 },
      { pc: 4, line: 1, col: 1 },
      { pc: 5, line: 3, col: 5 },
      { pc: 7, line: 3, col: 7 },
      { pc: 9, line: 3, col: 1 },
      { pc: 10, line: 4, col: 6 },
      { pc: 12, line: 4, col: 1 },
    ]);
  });
});

describe('tree syntax', () => {
  it('expands postfix: arguments first, left to right, then the op', () => {
    expect(words('sub(5,3)')).toEqual([PUSH, 5, PUSH, 3, SUB]);
    expect(words('pagewrite(pageread(0,0),1,add(2,3))')).toEqual([
      PUSH,
      0,
      PUSH,
      0,
      PAGEREAD,
      PUSH,
      1,
      PUSH,
      2,
      PUSH,
      3,
      ADD,
      PAGEWRITE,
    ]);
  });

  it('takes op() with no arguments, bare numbers and :labels', () => {
    expect(words('halt() 7 :x x:')).toEqual([HALT, PUSH, 7, PUSH, 5]);
  });

  it('pushes each argument of push(…)', () => {
    expect(words('push(1, -2, 0x10)')).toEqual([PUSH, 1, PUSH, -2, PUSH, 16]);
  });

  it('lets calls span lines and accepts space before (', () => {
    expect(words('add(\n  1,   ; first\n  2\n)')).toEqual(words('add (1,2)'));
  });

  it('reads mnemonics in any case', () => {
    expect(words('Add(1,2) ADD(1,2) add(1,2)')).toEqual([
      ...words('add(1,2)'),
      ...words('add(1,2)'),
      ...words('add(1,2)'),
    ]);
  });
});

describe('flat syntax', () => {
  it('takes PUSH with its immediate and other ops with operands to push first', () => {
    expect(words('PUSH 10\nADD 1 2\nSUB 5, 3\nJUMPIF :loop 1\nloop:')).toEqual([
      PUSH,
      10,
      PUSH,
      1,
      PUSH,
      2,
      ADD,
      PUSH,
      5,
      PUSH,
      3,
      SUB,
      PUSH,
      17,
      PUSH,
      1,
      JUMPIF,
    ]);
  });

  it('takes a lone JUMPIF operand as the address, with the condition already on the stack', () => {
    // JUMPIF is `addr cond --`: `JUMPIF :loop` jumps to loop when the top of the stack is non-zero.
    const SWAP = Op.SWAP;
    expect(words('loop:\nPUSH 1\nJUMPIF :loop')).toEqual([PUSH, 1, PUSH, 0, SWAP, JUMPIF]);
    // The tree form keeps KeyVM's meaning: arguments pushed in order, then the op.
    expect(words('loop:\njumpif(:loop)')).toEqual([PUSH, 0, JUMPIF]);
  });

  it('mixes with the tree syntax in one file and on one line', () => {
    expect(words('push 1\nadd(2,3) ; tree\nADD\nhalt')).toEqual([PUSH, 1, PUSH, 2, PUSH, 3, ADD, ADD, HALT]);
    expect(words('start: ADD add(1,2) 3')).toEqual([PUSH, 1, PUSH, 2, ADD, PUSH, 3, ADD]);
  });

  it('ends flat operands at a label definition or directive on the same line', () => {
    expect(words('JUMP :a a: HALT')).toEqual([PUSH, 3, JUMP, HALT]);
  });

  it('accepts a comment on the last line without a newline', () => {
    expect(words('HALT ; the end')).toEqual([HALT]);
    expect(words('; only a comment')).toEqual([]);
    expect(words('')).toEqual([]);
  });

  it('checks address marks against the code offset', () => {
    expect(words('0000: PUSH 1\n0002: HALT\n0x3: HALT')).toEqual([PUSH, 1, HALT, HALT]);
  });
});

describe('literals', () => {
  it('reads decimal, negative, hex, octal and binary', () => {
    expect(words('PUSH -7\nPUSH 0x1F\nPUSH 0b101\nPUSH 0o17\nPUSH -0x10')).toEqual([
      PUSH,
      -7,
      PUSH,
      31,
      PUSH,
      5,
      PUSH,
      15,
      PUSH,
      -16,
    ]);
  });

  it('accepts -2^31 … 2^32-1, wrapping values from 2^31 to negative words', () => {
    expect(
      words('PUSH -2147483648\nPUSH 2147483647\nPUSH 0xFFFFFFFF\nPUSH 2147483648\nPUSH 4294967295'),
    ).toEqual([PUSH, -2147483648, PUSH, 2147483647, PUSH, -1, PUSH, -2147483648, PUSH, -1]);
  });

  it.each(['-2147483649', '4294967296', '0x100000000', '-0xFFFFFFFF', `0b1${'0'.repeat(32)}`])(
    'refuses %s as outside 32 bits',
    (literal) => {
      expect(() => assemble(`PUSH ${literal}`)).toThrow(AssemblyError);
      try {
        assemble(`PUSH ${literal}`);
      } catch (e) {
        expect((e as AssemblyError).diagnostics.map((d) => d.code)).toEqual(['number-range']);
      }
    },
  );
});

describe('labels and constants', () => {
  it('resolves forward and backward references to word offsets', () => {
    const program = assemble('jump(:end)\nmid: PUSH 1\nend: jump(:mid)');
    expect(Array.from(program.code)).toEqual([PUSH, 5, JUMP, PUSH, 1, PUSH, 3, JUMP]);
    expect(program.labels.map((l) => [l.name, l.address])).toEqual([
      ['mid', 3],
      ['end', 5],
    ]);
  });

  it('pushes a constant named bare, defined before or after its use', () => {
    expect(words('.const TEN 10\nTEN\nadd(TEN, LATER)\nPUSH LATER\n.const LATER 0x20')).toEqual([
      PUSH,
      10,
      PUSH,
      10,
      PUSH,
      32,
      ADD,
      PUSH,
      32,
    ]);
  });

  it('defines a constant from an earlier one', () => {
    expect(words('.const A -1\n.const B A\nB')).toEqual([PUSH, -1]);
  });

  it('keeps labels case-sensitive and sorted canonically', () => {
    const { labels } = assemble('b: a: HALT B: A: NOP\nd: .data 1');
    expect(labels).toEqual([
      { name: 'a', address: 0, section: 'code' },
      { name: 'b', address: 0, section: 'code' },
      { name: 'A', address: 1, section: 'code' },
      { name: 'B', address: 1, section: 'code' },
      { name: 'd', address: 0, section: 'data' },
    ]);
  });
});

describe('data directives', () => {
  it('lays out the data page and gives labels before them data offsets', () => {
    const program = assemble(
      [
        '.const N 3',
        'table: .data 1, 2, 0x10',
        'buf:',
        '  .zero N',
        'msg: .string "hé\\n"',
        'cstr: .string0 "ok"',
        'main: PUSH :buf',
        'PUSH :msg',
        'end:',
      ].join('\n'),
    );
    expect(Array.from(program.data)).toEqual([1, 2, 16, 0, 0, 0, 0x68, 0xe9, 10, 0x6f, 0x6b, 0]);
    expect(Array.from(program.code)).toEqual([PUSH, 3, PUSH, 6]);
    expect(program.labels).toEqual([
      { name: 'main', address: 0, section: 'code' },
      { name: 'end', address: 4, section: 'code' },
      { name: 'table', address: 0, section: 'data' },
      { name: 'buf', address: 3, section: 'data' },
      { name: 'msg', address: 6, section: 'data' },
      { name: 'cstr', address: 9, section: 'data' },
    ]);
  });

  it('stores one word per UTF-16 code unit and decodes escapes', () => {
    expect(Array.from(assemble('.string "😀\\x41\\u{42}\\t\\"\\\\"').data)).toEqual([
      0xd83d, 0xde00, 0x41, 0x42, 9, 34, 92,
    ]);
  });

  it('keeps ; inside a string', () => {
    expect(Array.from(assemble('.string "a;b" ; comment').data)).toEqual([0x61, 0x3b, 0x62]);
  });

  it('emits raw code words with .word, labels included', () => {
    const program = assemble('.word 99, -1 :here\nhere: .WORD 0x7');
    expect(Array.from(program.code)).toEqual([99, -1, 3, 7]);
    expect(program.sourceMap.map((e) => e.pc)).toEqual([0, 1, 2, 3]);
  });

  it('keeps the file name as the program source', () => {
    expect(assemble('HALT', { file: 'a.ism' }).source).toBe('a.ism');
    expect('source' in assemble('HALT')).toBe(false);
  });
});

describe('tree and flat syntax agree', () => {
  type Tree = number | { name: string; args: Tree[] };
  const plain = INSTRUCTIONS.filter((row) => row.immediates === 0).map((row) => row.name);
  const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.record({
        name: fc.constantFrom(...plain).chain((name) => fc.constantFrom(name, name.toLowerCase())),
        args: fc.array(tie('node'), { maxLength: 3 }),
      }),
    ),
  })).node;
  const asTree = (t: Tree): string =>
    typeof t === 'number' ? String(t) : `${t.name}(${t.args.map(asTree).join(', ')})`;
  const asFlat = (t: Tree): string[] =>
    typeof t === 'number'
      ? [`PUSH ${t}`]
      : t.args.every((a) => typeof a === 'number') &&
          !(t.name.toUpperCase() === 'JUMPIF' && t.args.length === 1)
        ? [`${t.name} ${t.args.join(' ')}`]
        : [...t.args.flatMap(asFlat), t.name.toUpperCase()];

  it('op(args…) assembles like its postfix expansion in flat lines', () => {
    fc.assert(
      fc.property(fc.array(tree, { maxLength: 5 }), (trees) => {
        const fromTree = assemble(trees.map(asTree).join('\n')).code;
        const fromFlat = assemble(trees.flatMap(asFlat).join('\n')).code;
        expect(fromFlat).toEqual(fromTree);
      }),
      { numRuns: 500 },
    );
  });
});
