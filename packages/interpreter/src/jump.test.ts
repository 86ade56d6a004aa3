// Jumps outside the code page fault bad-jump (the end itself, like falling off the
// last instruction, halts), alike with the JIT off, on (compiled once hot) and eager,
// in the per-instruction code and in fast blocks, with literal and computed targets.
import { describe, expect, it } from 'vitest';
import { boot, expectFaultAtomic } from './testing.test-helpers.js';
import type { RunResult } from './types.js';

const MODES = [false, true, 'eager'] as const;

/** Count `n` down to 0, then go on with `tail` (hot enough to compile with the JIT on). */
const hotLoop = (n: number, tail: (string | number)[]): (string | number)[] => [
  'PUSH',
  n,
  'loop:',
  'PUSH',
  1,
  'SUB',
  'DUP',
  ':loop',
  'SWAP',
  'JUMPIF',
  ...tail,
];

const run = (items: (string | number)[], jit: (typeof MODES)[number]): RunResult =>
  boot(items, { jit, time: 1_000_000 }).run();

describe.each(MODES)('with the JIT %s', (jit) => {
  it('a JUMP to the end halts; past it, or below 0, faults at the JUMP with its operand kept', () => {
    // 7 words: PUSH 1, PUSH 7, JUMP, then 2 words never run.
    const end = boot(['PUSH', 1, 'PUSH', 7, 'JUMP', 'PUSH', 2], { jit });
    expect(end.run().status).toBe('halted');
    expect(end.stack()).toEqual([1]);
    for (const target of [8, 1000, -1, -2147483648, 2147483647]) {
      const m = boot(['PUSH', 1, 'PUSH', target, 'JUMP', 'PUSH', 2], { jit });
      const r = m.run();
      expect(r.status).toBe('fault');
      expect(r.fault).toMatchObject({ code: 'bad-jump', pc: 4, number: 13 });
      expect(r.fault!.message).toBe(`JUMP to ${target}, outside the code (0 to 7, its end)`);
      expect(m.stack()).toEqual([1, target]);
    }
  });

  it('a JUMPIF faults only when taken', () => {
    expect(run(['PUSH', 99, 'PUSH', 0, 'JUMPIF'], jit).status).toBe('halted');
    const r = run(['PUSH', 99, 'PUSH', 3, 'JUMPIF'], jit);
    expect(r.fault).toMatchObject({ code: 'bad-jump', pc: 4 });
  });

  it('faults atomically, step by step', () => {
    expectFaultAtomic(boot(['PUSH', 1, 'PUSH', 2, 'ADD', 'PUSH', 50, 'JUMP'], { jit }), 'bad-jump');
  });

  it('in hot code: a literal target after a loop, inside a fast block', () => {
    // PUSH 1 PUSH 2 ADD PUSH 9999 JUMP: a fast block would jump there in one go.
    const items = hotLoop(500, ['DROP', 'PUSH', 1, 'PUSH', 2, 'ADD', 'PUSH', 9999, 'JUMP']);
    const m = boot(items, { jit, time: 1_000_000 });
    const r = m.run();
    expect(r.fault).toMatchObject({ code: 'bad-jump', pc: 18 });
    expect(m.stack()).toEqual([3, 9999]);
  });

  it('in hot code: a computed target, and a loop whose back edge is computed', () => {
    // After the loop the counter (0) minus 1 is the target: -1.
    const computed = boot(hotLoop(500, ['PUSH', 1, 'SUB', 'JUMP']), { jit, time: 1_000_000 });
    expect(computed.run().fault).toMatchObject({ code: 'bad-jump', pc: 13 });
    expect(computed.stack()).toEqual([-1]);
    // A loop that jumps back to 2 + 0 each turn, until the counter (on top) says stop.
    const back = boot(
      [
        'PUSH',
        300,
        'loop:',
        'PUSH',
        1,
        'SUB',
        'DUP',
        'ISZERO',
        ':out',
        'SWAP',
        'JUMPIF',
        'PUSH',
        0,
        'PUSH',
        2,
        'ADD',
        'JUMP',
        'out:',
        'PUSH',
        100,
        'SWAP',
        'JUMPIF',
      ],
      { jit, time: 1_000_000 },
    );
    const r = back.run();
    // The loop ends with 0 on the stack: JUMPIF not taken, falls off the end.
    expect(r.status).toBe('halted');
    expect(back.stack()).toEqual([]);
    const taken = boot(
      [
        'PUSH',
        300,
        'loop:',
        'PUSH',
        1,
        'SUB',
        'DUP',
        'ISZERO',
        ':out',
        'SWAP',
        'JUMPIF',
        'PUSH',
        0,
        'PUSH',
        2,
        'ADD',
        'JUMP',
        'out:',
        'PUSH',
        100,
        'PUSH',
        1,
        'JUMPIF',
      ],
      { jit, time: 1_000_000 },
    );
    expect(taken.run().fault).toMatchObject({ code: 'bad-jump', pc: 21 });
  });
});
