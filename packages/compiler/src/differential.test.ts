// The differential property: random well-typed programs compiled and run on the
// VM print the same, end with the same stack (or the same fault) as the
// reference evaluator of their checked tree. KEYVM_SEED replays another seed.
import { Machine } from '@keyvm/interpreter';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from './checker.js';
import { compile } from './compile.js';
import { Sink } from './diagnostics.js';
import { randomProgram } from './generate.test-helpers.js';
import { tokenize } from './lexer.js';
import { parse } from './parser.js';
import { evaluate } from './reference.test-helpers.js';

const SEED = Number(process.env.KEYVM_SEED ?? 20261206);
const RUNS = Number(process.env.KEYVM_RUNS ?? 2000);

function reference(source: string) {
  const sink = new Sink('gen.kl', source);
  const checked = check([parse(tokenize(source, sink), sink, 'gen.kl')], sink);
  expect(sink.count).toBe(0);
  return evaluate(checked, 20_000);
}

function onVm(source: string, jit: boolean | 'eager') {
  const { program } = compile(source, { file: 'gen.kl' });
  const m = Machine.boot(program, { jit, stackSize: 16_384, time: 50_000_000 });
  const r = m.run();
  return { status: r.status, fault: r.fault?.code, output: m.output, stack: m.stack() };
}

describe('compiled programs agree with the reference evaluator', () => {
  it(`${RUNS} random programs (seed ${SEED}, KEYVM_SEED to replay)`, () => {
    console.log(`differential property: seed ${SEED}, ${RUNS} runs`);
    let faults = 0;
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const source = randomProgram(seed);
        const want = reference(source);
        // Too long, or deeper than the evaluator follows: not a case.
        if (want.fault === 'unsupported' || want.fault === 'stack-overflow') return;
        // The JIT mode rotates with the seed: off and on (compiling what gets hot) half
        // each, eager (compiling every page at once, which costs most) one case in ten.
        const jit = Math.abs(seed) % 10 === 0 ? 'eager' : seed % 2 !== 0;
        const got = onVm(source, jit);
        expect(got.output, source).toBe(want.output);
        if (want.fault !== undefined) {
          faults++;
          expect(got.status, source).toBe('fault');
          expect(got.fault, source).toBe(want.fault);
        } else {
          expect(got.status, source).toBe('halted');
          expect(got.stack, source).toEqual(want.stack);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(faults).toBeGreaterThan(0);
  }, 120_000);
});
