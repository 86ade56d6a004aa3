import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NoProofError, PROOF_SYSTEM, prove, verify } from './provable.js';
import { code, op } from './test-support.js';

// Relation: "I know x with x * x == public". Stack on entry: [public, x].
const square = { code: code('DUP', 'MUL', 'EQ') };

describe('prove / verify (transparent, Anoma provable-VM interface)', () => {
  it('proves and verifies a valid witness', () => {
    const proof = prove(square, [49], [7], 1000);
    expect(proof).toEqual({ system: PROOF_SYSTEM, privateInput: [7], gasUsed: 3 });
    expect(verify(square, [49], proof)).toBe(true);
  });

  it('refuses to prove a false statement (soundness at the prover)', () => {
    expect(() => prove(square, [50], [7], 1000)).toThrow(NoProofError);
  });

  it('rejects a proof for another public input, a tampered witness or gas, and junk', () => {
    const proof = prove(square, [49], [-7], 1000);
    expect(verify(square, [50], proof)).toBe(false);
    expect(verify(square, [49], { ...proof, privateInput: [6] })).toBe(false);
    expect(verify(square, [49], { ...proof, gasUsed: 2 })).toBe(false);
    expect(verify(square, [49], { ...proof, gasUsed: 4 })).toBe(false);
    expect(verify(square, [49], { ...proof, system: 'zk-snark' })).toBe(false);
    expect(verify(square, [49], { ...proof, privateInput: [2 ** 40] })).toBe(false);
    for (const junk of [null, 7, 'proof', {}, { system: PROOF_SYSTEM }])
      expect(verify(square, [49], junk)).toBe(false);
  });

  it('does not prove when the relation runs out of gas or faults', () => {
    const loop = { code: code(...op('JUMP', 0)) };
    expect(() => prove(loop, [], [], 50)).toThrow(/out-of-gas/);
    expect(() => prove({ code: code('DIV') }, [1], [0], 50)).toThrow(/fault/);
  });

  it('is sound and complete: verify(prove(x)) for every accepted x, and nothing verifies a false statement', () => {
    fc.assert(
      fc.property(fc.integer({ min: -46340, max: 46340 }), fc.integer(), (x, other) => {
        const pub = Math.imul(x, x);
        expect(verify(square, [pub], prove(square, [pub], [x], 100))).toBe(true);
        const forged = { system: PROOF_SYSTEM, privateInput: [other], gasUsed: 3 };
        expect(verify(square, [pub], forged)).toBe(Math.imul(other, other) === pub);
      }),
      { seed: Number(process.env.KEYVM_SEED ?? 20261121), numRuns: 500 },
    );
  });
});
