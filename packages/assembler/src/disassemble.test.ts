import { INSTRUCTIONS, OPCODE_COUNT, Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble, disassemble, disassembleInstruction, disassembleProgram, type Label } from './index.js';

const SEED = Number(process.env.KEYVM_SEED ?? 19);
console.log(`disassemble.test.ts: fast-check seed ${SEED} (KEYVM_SEED=n replays another)`);

const { PUSH, ADD, JUMP, JUMPIF, HALT, DUP } = Op;

describe('disassemble', () => {
  it('prints one instruction a line with its address', () => {
    expect(disassemble(Int32Array.of(PUSH, 10, PUSH, -3, ADD, HALT))).toMatchInlineSnapshot(`
      "0000: PUSH 10
      0002: PUSH -3
      0004: ADD
      0005: HALT
      "
    `);
  });

  it('prints unknown opcodes and a PUSH cut off at the end as .word', () => {
    expect(disassemble([OPCODE_COUNT, -1, 0x7fffffff, HALT, PUSH])).toMatchInlineSnapshot(`
      "0000: .word ${OPCODE_COUNT}
      0001: .word -1
      0002: .word 2147483647
      0003: HALT
      0004: .word 0 ; PUSH: immediate past the end of the code
      "
    `);
  });

  it('restores labels, and :name only where the word is a jump target', () => {
    const labels: Label[] = [
      { name: 'top', address: 0, section: 'code' },
      { name: 'done', address: 9, section: 'code' },
    ];
    // PUSH 0 feeds ADD (a number); PUSH 9 feeds JUMPIF's addr; PUSH 0 feeds JUMP.
    const code = [PUSH, 0, PUSH, 9, PUSH, 1, JUMPIF, PUSH, 0, HALT];
    expect(disassemble(code, { labels })).toMatchInlineSnapshot(`
      "top:
      0000: PUSH 0
      0002: PUSH :done
      0004: PUSH 1
      0006: JUMPIF
      0007: PUSH 0
      done:
      0009: HALT
      "
    `);
    expect(disassemble([PUSH, 0, JUMP, PUSH, 0, DUP, ADD], { labels })).toMatchInlineSnapshot(`
      "top:
      0000: PUSH :top
      0002: JUMP
      0003: PUSH 0
      0005: DUP
      0006: ADD
      "
    `);
  });

  it('splits an instruction into .word lines when a label points inside it', () => {
    const labels: Label[] = [{ name: 'imm', address: 1, section: 'code' }];
    const text = disassemble([PUSH, 99, HALT], { labels });
    expect(text).toMatchInlineSnapshot(`
      "0000: .word 0
      imm:
      0001: .word 99
      0002: HALT
      "
    `);
    expect(assemble(text).labels).toEqual(labels);
  });

  it('prints the source map as comments and the data page with its labels', () => {
    const program = assemble('msg: .string "ab"\nlast: .data\nmain: PUSH :msg\n  HALT', { file: 'x.ism' });
    expect(disassembleProgram(program)).toMatchInlineSnapshot(`
      "; data page: 2 words
      msg:
      .data 97, 98                    ; data 0000
      last:
      .data
      main:
      0000: PUSH 0                    ; 3:7
      0002: HALT                      ; 4:3
      "
    `);
  });

  it('keeps a space before the comment of a line longer than the comment column', () => {
    const data = Array.from({ length: 12 }, (_, i) => 1000 + i);
    const text = disassemble(new Int32Array(0), { data });
    const line = text.split('\n').find((l) => l.startsWith('.data'))!;
    expect(line.length).toBeGreaterThan(32);
    expect(line).toMatch(/\d ; data 0000$/);
    expect(Array.from(assemble(text).data)).toEqual(data);
  });

  it('leaves out labels it cannot print faithfully', () => {
    const labels: Label[] = [
      { name: 'ok', address: 1, section: 'code' },
      { name: 'ok', address: 0, section: 'code' },
      { name: '9lives', address: 0, section: 'code' },
      { name: 'far', address: 99, section: 'code' },
      { name: 'nodata', address: 1, section: 'data' },
    ];
    expect(disassemble([HALT, HALT], { labels })).toBe('ok:\n0000: HALT\n0001: HALT\n');
  });

  it('lists every instruction of the table by its mnemonic', () => {
    const code = INSTRUCTIONS.flatMap((row) => [row.code, ...new Array<number>(row.immediates).fill(7)]);
    const text = disassemble(code);
    for (const row of INSTRUCTIONS) expect(text).toMatch(new RegExp(`: ${row.name}( 7)?$`, 'm'));
    expect(Array.from(assemble(text).code)).toEqual(code);
  });
});

/** Mostly real opcodes, some PUSH immediates, some arbitrary words. */
const word = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: OPCODE_COUNT - 1 }) },
  { weight: 2, arbitrary: fc.constant(PUSH) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: -4, max: OPCODE_COUNT + 4 }) },
);
const codeWords = fc.array(word, { maxLength: 64 }).map((words) => Int32Array.from(words));
const labelName = fc.stringMatching(/^[A-Za-z_$][A-Za-z0-9_.$]{0,8}$/);

describe('disassembleInstruction', () => {
  it('prints one instruction and says where the next starts', () => {
    const code = [PUSH, 10, ADD, Op.PICK, 2, OPCODE_COUNT, -7];
    expect(disassembleInstruction(code, 0)).toEqual({ text: 'PUSH 10', next: 2 });
    expect(disassembleInstruction(code, 2)).toEqual({ text: 'ADD', next: 3 });
    expect(disassembleInstruction(code, 3)).toEqual({ text: 'PICK 2', next: 5 });
    expect(disassembleInstruction(code, 5)).toEqual({ text: `.word ${OPCODE_COUNT}`, next: 6 });
    expect(disassembleInstruction(code, 6)).toEqual({ text: '.word -7', next: 7 });
  });

  it('reports an immediate past the end of the code or a pc outside it, never throwing', () => {
    expect(disassembleInstruction([ADD, PUSH], 1)).toEqual({
      text: '.word 0 ; PUSH: immediate past the end of the code',
      next: 2,
    });
    for (const pc of [-1, 2, 99, 1.5, Number.NaN])
      expect(disassembleInstruction([ADD, HALT], pc)).toEqual({
        text: `; pc ${pc} is outside the code (2 words)`,
        next: pc,
      });
    expect(disassembleInstruction([], 0).text).toBe('; pc 0 is outside the code (0 words)');
  });

  it('walks any code to the same lines disassemble prints, each assembling to its words', () => {
    fc.assert(
      fc.property(codeWords, (code) => {
        const lines: string[] = [];
        let pc = 0;
        while (pc < code.length) {
          const { text, next } = disassembleInstruction(code, pc);
          expect(next).toBeGreaterThan(pc);
          expect(next).toBeLessThanOrEqual(code.length);
          expect(assemble(text).code).toEqual(code.subarray(pc, next));
          lines.push(`${String(pc).padStart(4, '0')}: ${text}`);
          pc = next;
        }
        expect(lines.map((l) => `${l}\n`).join('')).toBe(disassemble(code));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('round trip: disassemble, then assemble', () => {
  it('gives back identical code words for every word sequence', () => {
    fc.assert(
      fc.property(codeWords, (code) => {
        expect(assemble(disassemble(code)).code).toEqual(code);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives back the code, data and labels of a whole program', () => {
    const program = fc
      .record({
        code: codeWords,
        data: fc
          .array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 20 })
          .map((d) => Int32Array.from(d)),
        names: fc.uniqueArray(labelName, { maxLength: 6 }),
        spots: fc.array(fc.tuple(fc.boolean(), fc.nat()), { minLength: 6, maxLength: 6 }),
      })
      .map(({ code, data, names, spots }) => ({
        code,
        data,
        labels: names.map((name, i): Label => {
          const [inData, n] = spots[i]!;
          const section = inData ? 'data' : 'code';
          return { name, section, address: n % ((inData ? data.length : code.length) + 1) };
        }),
      }));
    fc.assert(
      fc.property(program, ({ code, data, labels }) => {
        const text = disassemble(code, { data, labels });
        const again = assemble(text);
        expect(again.code).toEqual(code);
        expect(again.data).toEqual(data);
        expect(again.labels).toEqual(assemble(disassembleProgram(again)).labels);
        expect(new Set(again.labels.map((l) => `${l.section}:${l.name}@${l.address}`))).toEqual(
          new Set(labels.map((l) => `${l.section}:${l.name}@${l.address}`)),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
