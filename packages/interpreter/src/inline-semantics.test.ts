// The inline instructions' meaning is written more than once: the interpreter loop
// (cpu.ts), the JIT's per-instruction templates (`BINARY`, `UNARY`) and its fast
// blocks (`PURE_BINARY`, `PURE_UNARY`) in jit.ts. This test checks every copy
// against a reference written here from the ISA table's docs, in BigInt arithmetic
// (so it shares no JavaScript int32 idiom with them), on random and edge operands.
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Machine, type MachineOptions } from './machine.js';
import { SEED } from './testing.test-helpers.js';

const int32 = (x: bigint): number => Number(BigInt.asIntN(32, x));
const flooredDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b; // truncates toward zero
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};
const shift = (n: bigint): bigint => BigInt.asUintN(5, n); // by n mod 32

/** What each inline instruction leaves, per the ISA table's effect and doc. */
const REFERENCE_BINARY: Readonly<Record<string, (a: bigint, b: bigint) => number>> = {
  ADD: (a, b) => int32(a + b),
  SUB: (a, b) => int32(a - b),
  MUL: (a, b) => int32(a * b),
  DIV: (a, b) => int32(flooredDiv(a, b)),
  MOD: (a, b) => int32(a - b * flooredDiv(a, b)),
  AND: (a, b) => int32(a & b),
  OR: (a, b) => int32(a | b),
  XOR: (a, b) => int32(a ^ b),
  EQ: (a, b) => (a === b ? 1 : 0),
  NE: (a, b) => (a !== b ? 1 : 0),
  LT: (a, b) => (a < b ? 1 : 0),
  LE: (a, b) => (a <= b ? 1 : 0),
  GT: (a, b) => (a > b ? 1 : 0),
  GE: (a, b) => (a >= b ? 1 : 0),
  SHL: (a, b) => int32(a << shift(b)),
  SHR: (a, b) => int32(a >> shift(b)),
  SHRU: (a, b) => int32(BigInt.asUintN(32, a) >> shift(b)),
};
const REFERENCE_UNARY: Readonly<Record<string, (a: bigint) => number>> = {
  NOT: (a) => int32(~a),
  NEG: (a) => int32(-a),
  ISZERO: (a) => (a === 0n ? 1 : 0),
};

/** Words with the edges every copy could get wrong. */
const word = fc.oneof(
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.integer({ min: -40, max: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0, 1, -1, 31, 32, 33, 63, -32, 2 ** 31 - 1, -(2 ** 31), 2 ** 30, 65536),
  },
);

/**
 * Ways to run: the interpreter loop; the JIT's fast blocks (operands as literals, or
 * taken from below the block's entry); its per-instruction code (which runs when a
 * block's guard fails: here a borrow of 1 gas leaves no fuel for a whole block).
 */
const WAYS: readonly [string, MachineOptions][] = [
  ['interpreter', { jit: false }],
  ['jit', { jit: 'eager' }],
  ['jit, one gas at a time', { jit: 'eager', borrowLimit: 1 }],
];

/** Code for each operand list: in one block (`PUSH a PUSH b OP`), or each OP at its own jump target. */
function programs(code: number, operands: readonly (readonly number[])[]): [string, number[]][] {
  const inline: number[] = [];
  const entered: number[] = [];
  for (const args of operands) {
    inline.push(...args.flatMap((a) => [Op.PUSH, a]), code);
    // PUSH a (PUSH b) PUSH L JUMP L: OP — the block at L takes its operands from below.
    entered.push(
      ...args.flatMap((a) => [Op.PUSH, a]),
      Op.PUSH,
      entered.length + 2 * args.length + 3,
      Op.JUMP,
      code,
    );
  }
  return [
    ['operands in the block', inline],
    ['operands from below the block', entered],
  ];
}

function check(name: string, operands: readonly (readonly number[])[], expected: readonly number[]): void {
  const code = INSTRUCTIONS.find((r) => r.name === name)!.code;
  for (const [shape, words] of programs(code, operands))
    for (const [way, options] of WAYS) {
      const m = Machine.boot(
        { code: Int32Array.from(words) },
        { ...options, stackSize: operands.length + 4 },
      );
      const r = m.run();
      expect(r.status, `${name}, ${shape}, ${way}`).toBe('halted');
      expect(m.stack(), `${name}, ${shape}, ${way}`).toEqual(expected);
    }
}

describe(`inline instructions: the interpreter, the JIT's templates and its fast blocks agree with the reference (seed ${SEED + 7})`, () => {
  it('covers every inline arithmetic and comparison instruction', () => {
    const inline = INSTRUCTIONS.filter((r) => r.family === 'arith' || r.family === 'compare').map(
      (r) => r.name,
    );
    expect([...Object.keys(REFERENCE_BINARY), ...Object.keys(REFERENCE_UNARY)].sort()).toEqual(
      [...inline].sort(),
    );
  });

  it('binary instructions', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(word, word), { minLength: 1, maxLength: 48 }), (pairs) => {
        for (const [name, reference] of Object.entries(REFERENCE_BINARY)) {
          // Division by zero faults (checked by opcodes.test.ts); here every divisor is not 0.
          const usable = name === 'DIV' || name === 'MOD' ? pairs.filter(([, b]) => b !== 0) : pairs;
          if (usable.length === 0) continue;
          check(
            name,
            usable,
            usable.map(([a, b]) => reference(BigInt(a), BigInt(b))),
          );
        }
      }),
      { seed: SEED + 7, numRuns: 12 },
    );
  });

  it('unary instructions', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 48 }), (words) => {
        for (const [name, reference] of Object.entries(REFERENCE_UNARY))
          check(
            name,
            words.map((a) => [a]),
            words.map((a) => reference(BigInt(a))),
          );
      }),
      { seed: SEED + 7, numRuns: 12 },
    );
  });
});
