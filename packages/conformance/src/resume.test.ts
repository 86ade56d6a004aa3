// Resume equivalence (images): for generated programs and a random N, running N
// steps, saving the image, loading it into a new Machine and finishing gives the
// same final image bytes (and status) as running it all at once.
import { decodeImage, encodeImage } from '@keyvm/image';
import { Machine, type Program } from '@keyvm/interpreter';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const seed = Number(process.env.KEYVM_SEED ?? 20261121);
const GAS = 3000;

/** One instruction: mostly small PUSHes (slot numbers, sizes, addresses), any opcode otherwise. */
const instruction = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: -2, max: 40 }).map((n) => [Op.PUSH, n]) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => [Op.PUSH, n]) },
  {
    weight: 6,
    arbitrary: fc.constantFrom(...INSTRUCTIONS.filter((i) => i.immediates === 0).map((i) => [i.code])),
  },
);
const program: fc.Arbitrary<Program> = fc.record({
  code: fc.array(instruction, { minLength: 1, maxLength: 60 }).map((is) => is.flat()),
  data: fc.array(fc.integer({ min: -100, max: 100 }), { maxLength: 8 }),
});

const bytesOf = (m: Machine) => Buffer.from(encodeImage(m.store));

describe('resume equivalence through images', () => {
  it('run N steps, save, load, finish == run all at once (final image bytes)', () => {
    console.log(`resume equivalence: seed ${seed} (set KEYVM_SEED to replay another)`);
    fc.assert(
      fc.property(program, fc.nat(), (prog, cut) => {
        // Every state a program can reach must be saveable: encodeImage throws otherwise.
        const whole = Machine.boot(prog, { time: GAS });
        const all = whole.run();
        const finalBytes = bytesOf(whole);
        const n = cut % (all.steps + 1);

        const first = Machine.boot(prog, { time: GAS });
        first.run({ maxSteps: n });
        const saved = encodeImage(first.store);
        const resumed = new Machine(decodeImage(saved));
        expect(Buffer.from(encodeImage(resumed.store)).equals(Buffer.from(saved))).toBe(true);
        const rest = resumed.run();
        if (n < all.steps) expect(rest.status).toBe(all.status);
        expect(bytesOf(resumed).equals(finalBytes)).toBe(true);
      }),
      { seed, numRuns: 1000 },
    );
  });
});
