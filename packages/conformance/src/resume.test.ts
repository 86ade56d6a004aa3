// Resume equivalence (images): for generated programs and a random N, running N
// steps, saving the image, loading it into a new Machine and finishing gives the
// same final image bytes (and status) as running it all at once. The programs are
// stack-balanced (balanced.test-helpers.ts), so they run long, loop, use pages and
// meters and call a second domain; the test checks they still do.
import { decodeImage, encodeImage } from '@keyvm/image';
import { Machine } from '@keyvm/interpreter';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { balancedProgram } from './balanced.test-helpers.js';

const seed = Number(process.env.KEYVM_SEED ?? 20261121);
const GAS = 3000;
const RUNS = 600;

const bytesOf = (m: Machine) => Buffer.from(encodeImage(m.store));

describe('resume equivalence through images', () => {
  it(`run N steps, save, load, finish == run all at once (final image bytes; seed ${seed})`, {
    timeout: 60_000,
  }, () => {
    console.log(`resume equivalence: seed ${seed} (set KEYVM_SEED to replay another)`);
    const steps: number[] = [];
    let twoDomains = 0;
    let underflows = 0;
    let halted = 0;
    fc.assert(
      fc.property(balancedProgram, fc.nat(), ({ program }, cut) => {
        // Every state a program can reach must be saveable: encodeImage throws otherwise.
        const whole = Machine.boot(program, { time: GAS });
        const all = whole.run();
        const finalBytes = bytesOf(whole);
        const n = cut % (all.steps + 1);
        steps.push(all.steps);
        if (whole.domains().length > 1) twoDomains++;
        if (all.fault?.code === 'stack-underflow') underflows++;
        if (all.status === 'halted') halted++;

        const first = Machine.boot(program, { time: GAS });
        first.run({ maxSteps: n });
        const saved = encodeImage(first.store);
        const resumed = new Machine(decodeImage(saved));
        expect(Buffer.from(encodeImage(resumed.store)).equals(Buffer.from(saved))).toBe(true);
        const rest = resumed.run();
        if (n < all.steps) expect(rest.status).toBe(all.status);
        expect(bytesOf(resumed).equals(finalBytes)).toBe(true);
      }),
      { seed, numRuns: RUNS },
    );
    // The property means something only over real states: long runs, a second
    // domain, few programs that stop at once (the old generator's median run was 1
    // step, 70% underflowed, none made a second domain).
    steps.sort((a, b) => a - b);
    const share = (k: number) => k / steps.length;
    const median = steps[steps.length >> 1]!;
    const long = share(steps.filter((s) => s >= 100).length);
    console.log(
      `resume equivalence over ${steps.length} programs: median ${median} steps, ${Math.round(long * 100)}% >= 100 steps, ` +
        `${Math.round(share(twoDomains) * 100)}% two domains, ${Math.round(share(halted) * 100)}% halted, ` +
        `${Math.round(share(underflows) * 100)}% stack underflow`,
    );
    expect(steps).toHaveLength(RUNS);
    expect(long).toBeGreaterThanOrEqual(0.5);
    expect(share(twoDomains)).toBeGreaterThanOrEqual(0.2);
    expect(share(halted)).toBeGreaterThanOrEqual(0.3);
    expect(share(underflows)).toBeLessThanOrEqual(0.1);
  });
});
