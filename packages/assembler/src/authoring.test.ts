// Writing programs: predefined names and their shadowing, `.include` through a host
// reader, macros, JSR / RTS, and the SRCS section that carries files through .kvm.
import { Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AssemblyError,
  assemble,
  decodeProgram,
  disassemble,
  disassembleChunks,
  disassembleProgram,
  encodeProgram,
  type IncludeReader,
  KvmFormatError,
  MAX_INCLUDE_DEPTH,
  PREDEFINED,
} from './index.js';

const SEED = Number(process.env.KEYVM_SEED ?? 16);
console.log(`authoring.test.ts: fast-check seed ${SEED} (KEYVM_SEED=n replays another)`);

const errors = (source: string, options = {}): string[] => {
  try {
    assemble(source, { file: 'main.ism', ...options });
  } catch (e) {
    if (e instanceof AssemblyError)
      return e.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.code}: ${d.message}`);
    throw e;
  }
  return [];
};

/** A reader over an in-memory file system, resolving names relative to the including file's folder. */
const memoryReader =
  (files: Record<string, string>): IncludeReader =>
  (name, from) => {
    const dir = from.includes('/') ? from.slice(0, from.lastIndexOf('/') + 1) : '';
    const file = name.startsWith('/') ? name.slice(1) : `${dir}${name}`;
    const text = files[file];
    if (text === undefined) throw new Error('no such file');
    return { file, text };
  };

describe('predefined names', () => {
  it('name the domain layout, device slots and device operations', () => {
    const p = assemble(
      'PUSH TIME\nPUSH RESUME\nPUSH CONSOLE\nPUSH CONSOLE_PUTNUMBER\nPUSH INPUT_READ\nPUSH CLOCK\n',
    );
    expect([...p.code]).toEqual([Op.PUSH, 0, Op.PUSH, 11, Op.PUSH, 12, Op.PUSH, 1, Op.PUSH, 0, Op.PUSH, 14]);
    expect(PREDEFINED.get('STACK')).toBe(7);
    expect(PREDEFINED.get('KEEPER')).toBe(10);
  });

  it("a program's own .const takes the name over everywhere, even above its definition", () => {
    // The old examples re-declare the layout: same values, no error.
    expect([...assemble('.const TIME 0\nPUSH TIME\n').code]).toEqual([Op.PUSH, 0]);
    // A different value wins, also for uses before the .const.
    expect([...assemble('PUSH CONSOLE\n.const CONSOLE 20\nPUSH CONSOLE\n').code]).toEqual([
      Op.PUSH,
      20,
      Op.PUSH,
      20,
    ]);
    // Where order matters (.const, .zero), the predefined value is not visible either.
    expect(errors('.const A DATA\n.const DATA 3\n')).toEqual([
      "main.ism:1:10: undefined-name: constant 'DATA' must be defined before this .const",
    ]);
    expect(errors('.zero DATA\n.const DATA 3\n')).toEqual([
      "main.ism:1:7: undefined-name: constant 'DATA' must be defined before this .zero",
    ]);
    expect([...assemble('.zero DATA\n.const X DATA\nPUSH X\n').code]).toEqual([Op.PUSH, 8]);
    // Defining it twice is still an error.
    expect(errors('.const TIME 0\n.const TIME 1\n')[0]).toMatch(/duplicate-name/);
  });

  it('are offered as suggestions', () => {
    expect(errors('PUSH CONSLE\n')[0]).toMatch(/did you mean 'CONSOLE'/);
  });
});

describe('.include', () => {
  const files = {
    'main.ism': '.include "lib/io.ism"\nPUSH 7\nJSR :twice\nHALT\n',
    'lib/io.ism': '.include "math.ism"\n',
    'lib/math.ism': 'twice: SWAP\n  DUP\n  ADD\n  RTS 1\n',
    'loop.ism': '.include "loop.ism"\n',
    'a.ism': '.include "b.ism"\n',
    'b.ism': '.include "a.ism"\n',
    'bad.ism': 'PUSH 1\nADDD\n',
  };
  const include = memoryReader(files);

  it('assembles the included files in place, relative to the including file, with a source map into each', () => {
    const p = assemble(files['main.ism'], { file: 'main.ism', include });
    expect(p.files?.map((f) => f.name)).toEqual(['main.ism', 'lib/io.ism', 'lib/math.ism']);
    const twice = p.labels.find((l) => l.name === 'twice')!;
    expect(twice.address).toBe(0);
    // SWAP DUP ADD SWAP JUMP, then PUSH 7 …
    expect(p.sourceMap[0]).toEqual({ pc: 0, line: 1, col: 8, file: 2 });
    expect(p.sourceMap.find((e) => e.pc === 5)).toEqual({ pc: 5, line: 2, col: 1 });
  });

  it('runs the subroutine convention: JSR pushes the return address, RTS 1 leaves one result', () => {
    const p = assemble('PUSH 7\nJSR :twice\nHALT\ntwice: SWAP\nDUP\nADD\nRTS 1\n');
    // PUSH 7, PUSH ret, PUSH twice, JUMP, HALT at 7.
    expect([...p.code.slice(0, 8)]).toEqual([Op.PUSH, 7, Op.PUSH, 7, Op.PUSH, 8, Op.JUMP, Op.HALT]);
    expect([...p.code.slice(8)]).toEqual([Op.SWAP, Op.DUP, Op.ADD, Op.SWAP, Op.JUMP]);
    expect([...assemble('JSR :f, 1, 2\nf: RTS\n').code]).toEqual([
      Op.PUSH,
      1,
      Op.PUSH,
      2,
      Op.PUSH,
      9,
      Op.PUSH,
      9,
      Op.JUMP,
      Op.JUMP,
    ]);
    expect(errors('RTS 2\n')[0]).toMatch(/bad-operand: RTS takes nothing or/);
    expect(errors('JSR\n')[0]).toMatch(/bad-operand: JSR takes a target/);
  });

  it('reports errors in the included file, where they are', () => {
    expect(errors('.include "bad.ism"\n', { include })).toEqual([
      "bad.ism:2:1: unknown-instruction: unknown instruction 'ADDD'; did you mean 'ADD'?",
    ]);
  });

  it('refuses cycles, missing files, too deep nesting and a missing reader', () => {
    expect(errors('.include "loop.ism"\n', { include })[0]).toMatch(
      /loop.ism:1:10: bad-include: 'loop.ism' includes itself: loop.ism -> loop.ism/,
    );
    expect(errors('.include "a.ism"\n', { include })[0]).toMatch(/includes itself: a.ism -> b.ism -> a.ism/);
    expect(errors('.include "nope.ism"\n', { include })).toEqual([
      "main.ism:1:10: bad-include: cannot include 'nope.ism': no such file",
    ]);
    expect(errors('.include "x"\n')[0]).toMatch(/given no way to read files/);
    expect(errors('.include x\n', { include })[0]).toMatch(/takes one "file name"/);
    let n = 0;
    const deep: IncludeReader = () => ({ file: `f${n++}.ism`, text: '.include "next"\n' });
    expect(errors('.include "next"\n', { include: deep })[0]).toMatch(
      new RegExp(`includes nest more than ${MAX_INCLUDE_DEPTH} deep`),
    );
  });

  it('keeps the files through .kvm (the SRCS section), text too when asked', () => {
    const p = assemble(files['main.ism'], { file: 'main.ism', include, keepSource: true });
    expect(p.files?.[2]?.text).toBe(files['lib/math.ism']);
    const back = decodeProgram(encodeProgram(p));
    expect(back).toEqual(p);
    expect(encodeProgram(back)).toEqual(encodeProgram(p));
    const plain = assemble('PUSH 1\n', { file: 'one.ism' });
    expect(plain.files).toBeUndefined();
    expect(decodeProgram(encodeProgram(plain))).toEqual(plain);
  });
});

describe('macros', () => {
  it('expand with arguments, labels named by arguments, and macros using macros', () => {
    const source = [
      '.macro print_num n',
      '  DEVICE CONSOLE, CONSOLE_PUTNUMBER, n',
      '  DROP',
      '.endm',
      '.macro twice a, b',
      '  print_num a',
      '  print_num b',
      '.endm',
      'twice 1, add(2, 3)',
      '.macro loop_to top',
      'top: JUMP :top',
      '.endm',
      'loop_to again',
    ].join('\n');
    const p = assemble(source);
    const direct = assemble(
      'DEVICE CONSOLE, CONSOLE_PUTNUMBER, 1\nDROP\nDEVICE CONSOLE, CONSOLE_PUTNUMBER, add(2, 3)\nDROP\nagain: JUMP :again\n',
    );
    expect([...p.code]).toEqual([...direct.code]);
    expect(p.labels).toEqual(direct.labels);
  });

  it('keep each expanded line a line of its own', () => {
    // Two uses in a row must not run into each other's flat operands.
    const p = assemble('.macro one\nPUSH 1\n.endm\none\none\nADD\n');
    expect([...p.code]).toEqual([Op.PUSH, 1, Op.PUSH, 1, Op.ADD]);
  });

  it('are checked: arity, names, unclosed, nesting, recursion and size', () => {
    expect(errors('.macro m a\n.endm\nm\n')[0]).toMatch(/bad-macro: macro 'm' takes 1 argument \(a\), got 0/);
    expect(errors('.macro ADD\n.endm\n')[0]).toMatch(/'ADD' is an instruction and cannot name a macro/);
    expect(errors('.macro m\nPUSH 1\n')[0]).toMatch(/main.ism:1:1: bad-macro: .macro without its .endm/);
    expect(errors('.endm\n')[0]).toMatch(/.endm without a .macro/);
    expect(errors('.macro m\n.endm\n.macro m\n.endm\n')[0]).toMatch(/duplicate macro 'm'/);
    expect(errors('.macro r\nr\n.endm\nr\n')[0]).toMatch(/macros nest more than 64 deep/);
    // Doubling ten levels deep would be fine; doubling forty is refused, quickly.
    const bomb = ['.macro m0\nNOP\n.endm'];
    for (let i = 1; i <= 40; i++) bomb.push(`.macro m${i}\nm${i - 1}\nm${i - 1}\n.endm`);
    bomb.push('m40');
    expect(errors(bomb.join('\n'))[0]).toMatch(/macro expansion produces more than/);
    // An error inside a body is located in the body.
    expect(errors('.macro m\n  ADDD\n.endm\nm\n')[0]).toMatch(/main.ism:2:3: unknown-instruction/);
  });
});

describe('disassembly keeps what the source said', () => {
  const source = [
    'msg: .string0 "hello, world\\n"',
    'buf: .zero 32',
    'nums: .data 1, 2, 3',
    'start: add(1, 2)',
    '  DUP',
    '  JUMPIF :done',
    '  JSR :f, 4',
    '  SUB 1',
    'done: HALT',
    'f: SWAP',
    '  RTS 1',
  ].join('\n');

  it('prints operands with their instruction, JSR and RTS, strings, zero runs and data labels', () => {
    const text = disassembleProgram(assemble(source, { file: 'k.ism' }));
    expect(text).toContain('msg:\n.string0 "hello, world\\n"');
    expect(text).toContain('buf:\n.zero 32');
    expect(text).toContain('nums:\n.data 1, 2, 3');
    expect(text).toMatch(/: ADD 1 2 /);
    expect(text).toMatch(/: JUMPIF :done /);
    expect(text).toMatch(/: JSR :f /);
    expect(text).toMatch(/: SUB 1 /);
    expect(text).toMatch(/: RTS 1 /);
  });

  it('round-trips: the text assembles to the same words, data and labels', () => {
    const p = assemble(source, { file: 'k.ism' });
    const back = assemble(disassembleProgram(p));
    expect([...back.code]).toEqual([...p.code]);
    expect([...back.data]).toEqual([...p.data]);
    expect(back.labels).toEqual(p.labels);
  });

  it('prints the same in pieces of any size: groups may cross a piece boundary', () => {
    const p = assemble(source, { file: 'k.ism' });
    const options = { labels: p.labels, sourceMap: p.sourceMap, data: p.data };
    const whole = disassembleProgram(p);
    for (let size = 1; size <= p.code.length; size++)
      expect([...disassembleChunks(p.code, options, size)].join(''), `pieces of ${size}`).toBe(whole);
  });

  it('round-trips random data pages (text runs, zeros, labels anywhere)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 9, max: 127 }), fc.integer()), { maxLength: 60 }),
        fc.uniqueArray(fc.nat(60), { maxLength: 5 }),
        (words, at) => {
          const data = Int32Array.from(words);
          const labels = at
            .filter((a) => a <= data.length)
            .map((address, i) => ({ name: `l${i}`, address, section: 'data' as const }));
          const text = disassemble(new Int32Array(0), { data, labels });
          const back = assemble(text);
          expect([...back.data]).toEqual([...data]);
          expect(back.labels).toEqual(
            [...labels].sort((a, b) => a.address - b.address || (a.name < b.name ? -1 : 1)),
          );
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('the SRCS section, damaged', () => {
  it('decodes to a program or is refused with a KvmFormatError, never anything else', () => {
    const p = assemble('.include "lib.ism"\nPUSH 1\n', {
      file: 'main.ism',
      keepSource: true,
      include: memoryReader({ 'lib.ism': 'x: ADD 1 2\n' }),
    });
    const bytes = encodeProgram(p);
    fc.assert(
      fc.property(
        fc.nat(bytes.length - 1),
        fc.integer({ min: 1, max: 255 }),
        fc.nat(bytes.length),
        (at, x, cut) => {
          const mutated = bytes.slice(0, cut === 0 ? bytes.length : cut);
          if (at < mutated.length) mutated[at]! ^= x;
          try {
            const back = decodeProgram(mutated);
            expect(decodeProgram(encodeProgram(back))).toEqual(back);
          } catch (e) {
            expect(e).toBeInstanceOf(KvmFormatError);
          }
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
