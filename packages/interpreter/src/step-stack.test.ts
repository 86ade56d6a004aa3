// Step records of a deep stack: whole by default, or only its ends with Machine.stepStackEnds.
import { Op } from '@keyvm/isa';
import { describe, expect, it } from 'vitest';
import { Machine } from './machine.js';
import type { StepInfo } from './types.js';

describe('step records and deep stacks', () => {
  const boot = () =>
    Machine.boot(
      { code: [Op.DROP, Op.PUSH, 5] },
      { stack: Int32Array.from({ length: 10_000 }, (_, i) => i), devices: false },
    );

  it('copy the whole stack by default', () => {
    const m = boot();
    const seen: StepInfo[] = [];
    m.onStep = (s) => seen.push(s);
    m.run();
    expect(seen[0]!.stack).toHaveLength(10_000);
    expect(seen[0]!).toMatchObject({ sp: 10_000, stackOmitted: 0 });
  });

  it('copy only the bottom and top N words with stepStackEnds = N, and say how many were left out', () => {
    const m = boot();
    m.stepStackEnds = 3;
    const seen: StepInfo[] = [];
    m.onStep = (s) => seen.push(s);
    m.run();
    expect(seen.map((s) => [s.sp, s.stack, s.stackOmitted])).toEqual([
      [10_000, [0, 1, 2, 9997, 9998, 9999], 9994],
      [9999, [0, 1, 2, 9996, 9997, 9998], 9993],
    ]);
    // A stack of at most 2N words is whole.
    const small = Machine.boot({ code: [Op.DROP] }, { stack: [1, 2, 3], devices: false });
    small.stepStackEnds = 3;
    small.onStep = (s) => expect([s.stack, s.stackOmitted]).toEqual([[1, 2, 3], 0]);
    small.run();
  });
});
