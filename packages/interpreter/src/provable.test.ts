// prove / verify: completeness, soundness against forged proofs, and the verifier's own bounds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Program } from './machine.js';
import { NoProofError, PROOF_SYSTEM, type Proof, prove, relationDigest, verify } from './provable.js';
import { code, op } from './test-support.js';

// Relation: "I know x with x * x == public". Stack on entry: [public, x].
const square = { code: code('DUP', 'MUL', 'EQ') };
// Relation: "I know x, y with x * x + y * y == public". Stack on entry: [public, x, y].
const twoSquares = { code: code('DUP', 'MUL', 'SWAP', 'DUP', 'MUL', 'ADD', 'EQ') };
// Squares mod 4 are 0 or 1, so a public word that is 3 mod 4 has no witness for either relation.
const noWitness = fc.integer().map((n) => (n & ~3) | 3);

const seed = Number(process.env.KEYVM_SEED ?? 20261121);

describe('prove / verify (transparent, Anoma provable-VM interface)', () => {
  it('proves and verifies a valid witness, binding the relation and both inputs', () => {
    const proof = prove(square, [49], [7], 1000);
    expect(proof).toEqual({
      system: PROOF_SYSTEM,
      relation: relationDigest(square),
      publicInput: [49],
      privateInput: [7],
      gasUsed: 3,
    });
    expect(verify(square, [49], proof)).toBe(true);
    expect(verify(square, [49], proof, { privateWords: 1 })).toBe(true);
  });

  it('refuses the extra-private-word forgery: nothing squares to 50', () => {
    const forged = {
      system: PROOF_SYSTEM,
      relation: relationDigest(square),
      publicInput: [50],
      privateInput: [4, 2],
      gasUsed: 3,
    };
    expect(verify(square, [50], forged)).toBe(false);
    expect(() => prove(square, [50], [4, 2], 1000)).toThrow(/2 words on its stack/);
  });

  it('refuses to prove a false statement (soundness at the prover)', () => {
    expect(() => prove(square, [50], [7], 1000)).toThrow(NoProofError);
  });

  it('refuses private or public words that are not 32-bit integers in prove', () => {
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 0.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => prove(square, [49], [bad], 1000)).toThrow(RangeError);
    expect(() => prove(square, [2 ** 32 + 49], [7], 1000)).toThrow(/public input word 0/);
    expect(() => prove(square, [49], [7, 0.5], 1000)).toThrow(/private input word 1 is 0.5/);
  });

  it('rejects a proof for another public input, relation, tampered witness or gas, and junk', () => {
    const proof = prove(square, [49], [-7], 1000);
    expect(verify(square, [50], proof)).toBe(false);
    expect(verify(square, [2 ** 32 + 49], proof)).toBe(false);
    expect(verify({ code: code('DUP', 'MUL', 'EQ', 'NOP') }, [49], proof)).toBe(false);
    expect(verify({ code: square.code, data: [0] }, [49], proof)).toBe(false);
    expect(verify(square, [49], { ...proof, privateInput: [6] })).toBe(false);
    expect(verify(square, [49], { ...proof, gasUsed: 2 })).toBe(false);
    expect(verify(square, [49], { ...proof, gasUsed: 4 })).toBe(false);
    expect(verify(square, [49], { ...proof, system: 'keyvm-transparent-v1' })).toBe(false);
    expect(verify(square, [49], { ...proof, privateInput: [2 ** 40] })).toBe(false);
    expect(verify(square, [49], { ...proof, publicInput: [50] })).toBe(false);
    expect(verify(square, [49], { ...proof, relation: 'f'.repeat(64) })).toBe(false);
    expect(verify(square, [49], proof, { privateWords: 2 })).toBe(false);
    expect(verify(square, [49], proof, { maxGas: 2 })).toBe(false);
    expect(verify(square, [49], proof, { maxPrivateWords: 0 })).toBe(false);
    for (const junk of [null, 7, 'proof', {}, { system: PROOF_SYSTEM }, { ...proof, privateInput: 'x' }])
      expect(verify(square, [49], junk)).toBe(false);
  });

  it('takes its gas bound from the verifier, never from the proof', () => {
    const loop = { code: code(...op('JUMP', 0)) };
    const greedy = {
      system: PROOF_SYSTEM,
      relation: relationDigest(loop),
      publicInput: [],
      privateInput: [],
      gasUsed: Number.MAX_SAFE_INTEGER,
    };
    // Without the verifier's bound this re-run would take hours; it is refused unrun.
    expect(verify(loop, [], greedy)).toBe(false);
    expect(verify(loop, [], { ...greedy, gasUsed: 1_000_000 }, { maxGas: 1000 })).toBe(false);
    expect(() => verify(loop, [], greedy, { maxGas: -1 })).toThrow(RangeError);
  });

  it('does not prove when the relation runs out of gas or faults', () => {
    const loop = { code: code(...op('JUMP', 0)) };
    expect(() => prove(loop, [], [], 50)).toThrow(/out-of-gas/);
    expect(() => prove({ code: code('DIV') }, [1], [0], 50)).toThrow(/fault/);
  });

  it('is complete: verify(prove(x)) for every accepted x', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (x, y) => {
        const pub = Math.imul(x, x);
        expect(verify(square, [pub], prove(square, [pub], [x], 100))).toBe(true);
        const sum = (Math.imul(x, x) + Math.imul(y, y)) | 0;
        expect(verify(twoSquares, [sum], prove(twoSquares, [sum], [x, y], 100), { privateWords: 2 })).toBe(
          true,
        );
      }),
      { seed, numRuns: 300 },
    );
  });

  const relations: readonly [string, Program][] = [
    ['square', square],
    ['twoSquares', twoSquares],
  ];
  const word = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

  it('is sound: no proof verifies a public input without a witness, whatever its words and gas', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...relations),
        noWitness,
        fc.array(word, { maxLength: 6 }),
        fc.integer({ min: 0, max: 64 }),
        ([, relation], pub, privateInput, gasUsed) => {
          const forged = {
            system: PROOF_SYSTEM,
            relation: relationDigest(relation),
            publicInput: [pub],
            privateInput,
            gasUsed,
          };
          expect(verify(relation, [pub], forged)).toBe(false);
        },
      ),
      { seed, numRuns: 1000 },
    );
  });

  it('never verifies a forged variant of a real proof (extra, truncated or changed words, program, gas)', () => {
    type Forge = (p: Proof) => { proof: unknown; relation?: Program; pub?: number[] };
    const forge: fc.Arbitrary<Forge> = fc.oneof(
      fc.tuple(fc.array(word, { minLength: 1, maxLength: 3 }), fc.boolean()).map(
        ([extra, front]): Forge =>
          (p) => ({
            proof: {
              ...p,
              privateInput: front ? [...extra, ...p.privateInput] : [...p.privateInput, ...extra],
            },
          }),
      ),
      fc.integer({ min: 1, max: 2 }).map(
        (cut): Forge =>
          (p) => ({
            proof: { ...p, privateInput: p.privateInput.slice(0, Math.max(0, p.privateInput.length - cut)) },
          }),
      ),
      fc.array(word, { minLength: 1, maxLength: 2 }).map(
        (extra): Forge =>
          (p) => {
            const pub = [...p.publicInput, ...extra];
            return { proof: { ...p, publicInput: pub }, pub };
          },
      ),
      fc.integer({ min: 1, max: 1000 }).map(
        (delta): Forge =>
          (p) => ({ proof: { ...p, gasUsed: p.gasUsed + delta } }),
      ),
      fc.integer({ min: 1, max: 3 }).map(
        (delta): Forge =>
          (p) => ({ proof: { ...p, gasUsed: Math.max(0, p.gasUsed - delta) } }),
      ),
      fc.constantFrom('NOP', 'HALT').map(
        (extra): Forge =>
          (p) => ({
            // Re-labelled for another program, or checked against one: either way it is not this relation's proof.
            proof: { ...p, relation: relationDigest({ code: code(extra, 'NOP') }) },
          }),
      ),
      fc.constantFrom('NOP', 'HALT').map(
        (extra): Forge =>
          (p) => ({ proof: p, relation: { code: Int32Array.from([...code(extra), ...square.code]) } }),
      ),
    );
    fc.assert(
      fc.property(fc.constantFrom(...relations), word, word, forge, ([, relation], x, y, f) => {
        const priv = relation === square ? [x] : [x, y];
        const pub = relation === square ? Math.imul(x, x) : (Math.imul(x, x) + Math.imul(y, y)) | 0;
        const real = prove(relation, [pub], priv, 100);
        const forged = f(real);
        const stillValid = verify(forged.relation ?? relation, forged.pub ?? [pub], forged.proof);
        // A truncated or extended witness can only verify if it is itself a witness, which the
        // relation's exact arity rules out: every relation here consumes a fixed number of words.
        expect(stillValid).toBe(false);
      }),
      { seed, numRuns: 1000 },
    );
  });
});
