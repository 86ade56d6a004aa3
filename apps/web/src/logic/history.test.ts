// The history: checkpoint spacing and thinning, and step back == a fresh run to the
// step before, for random programs with devices and input arriving mid-run (fast-check,
// fixed printed seed; KEYVM_SEED replays another).
import { DomainSlot, PageType } from '@keyvm/core';
import { Machine } from '@keyvm/interpreter';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeStore } from '../image-io.js';
import { History, type InputEvent, locate } from './history.js';

const SEED = Number(process.env.KEYVM_SEED ?? 20261206);
console.log(`web history properties: seed ${SEED} (set KEYVM_SEED to replay another)`);

const push = (...words: number[]) => words.flatMap((w) => [Op.PUSH, w]);
const CONSOLE = 12;
const INPUT = 13;
const CLOCK = 14;

/** Program pieces: device use (input read and pending, console, clock), children, calls, arithmetic. */
const pieces: readonly (readonly number[])[] = [
  [...push(INPUT, 0, 0), Op.DEVICE],
  [...push(INPUT, 1, 0), Op.DEVICE],
  [...push(CONSOLE, 1, 77), Op.DEVICE, Op.DROP],
  [Op.DUP, Op.PUSH, CONSOLE, Op.SWAP, Op.PUSH, 1, Op.SWAP, Op.DEVICE, Op.DROP],
  [...push(CLOCK, 0, 0), Op.DEVICE],
  [...push(15, PageType.keys, DomainSlot.MEMORY, 28), Op.CREATEPAGE],
  [...push(17, PageType.data, DomainSlot.MEMORY, 8), Op.CREATEPAGE],
  [...push(15, DomainSlot.TIME, DomainSlot.SELF, DomainSlot.TIME), Op.COPYKEY],
  [...push(15, DomainSlot.CODE, DomainSlot.SELF, DomainSlot.CODE), Op.COPYKEY],
  [...push(15, DomainSlot.STACK, DomainSlot.SELF, 17), Op.COPYKEY],
  [...push(15, CONSOLE, DomainSlot.SELF, CONSOLE), Op.COPYKEY],
  [...push(18, 15), Op.MAKEDOMAIN],
  [...push(18, 0), Op.CALL],
  [...push(DomainSlot.RESUME, 0, 7), Op.RETURN],
  [Op.PUSH, 3, Op.ADD],
  [Op.PUSH, 5, Op.MUL],
  [Op.DROP],
  [Op.YIELD],
];

const itemArb: fc.Arbitrary<readonly number[]> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...pieces) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: INSTRUCTIONS.length - 1 }), fc.array(fc.integer({ min: -1, max: 20 })))
      .map(([op, args]) => {
        const row = INSTRUCTIONS[op]!;
        return [...push(...args.slice(0, row.pops)), op, ...new Array<number>(row.immediates).fill(1)];
      }),
  },
  // A backward jump now and then: loops, bounded by the step limit.
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 30 }).map((to) => [Op.PUSH, to, Op.JUMP]) },
);

const programArb = fc.array(itemArb, { minLength: 1, maxLength: 40 }).map((items) => items.flat());

const MAX_STEPS = 400;

const boot = (code: readonly number[]) => () =>
  Machine.boot({ code }, { time: 5_000, quantum: 7, stackSize: 32, dataSize: 8 });

/** A plain machine run to `target` steps, handed `inputs` at their positions (the oracle). */
function freshRun(code: readonly number[], inputs: readonly InputEvent[], target: number): Machine {
  const m = boot(code)();
  let pos = 0;
  let ev = 0;
  for (;;) {
    while (ev < inputs.length && inputs[ev]!.position <= pos) m.provideInput(inputs[ev++]!.words);
    if (pos >= target) break;
    const next = inputs[ev]?.position ?? Number.POSITIVE_INFINITY;
    const r = m.run({ maxSteps: Math.min(target, next) - pos });
    pos += r.steps;
    if (r.status !== 'paused' && r.steps === 0 && !(ev < inputs.length && inputs[ev]!.position <= pos)) break;
  }
  expect(pos).toBe(target);
  return m;
}

/** Drive a history like a user: run, and at some stops type input. */
function recordRun(
  code: readonly number[],
  stops: readonly number[],
  interval: number,
  max: number,
): History {
  const h = new History({ origin: boot(code), interval, budgetBytes: max * imageBytes(code) });
  for (const [i, at] of stops.entries()) {
    if (h.seek(at) !== at) break;
    h.provideInput([i * 10 + 1, i * 10 + 2]);
  }
  h.advance(MAX_STEPS - h.position);
  return h;
}

/** Bytes of a checkpoint of `code`'s machine at the origin (its size barely changes as it runs). */
const imageBytes = (code: readonly number[]) => encodeStore(boot(code)().store).length;

const bytesAt = (m: Machine) => {
  locate(m);
  return encodeStore(m.store);
};

describe('checkpoints', () => {
  const loop = [Op.PUSH, 0, Op.JUMP];

  it('are taken every K steps from the origin', () => {
    const h = new History({ origin: boot(loop), interval: 10 });
    h.advance(95);
    expect(h.position).toBe(95);
    expect(h.checkpointPositions).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });

  it('thin out by doubling K and dropping every other one past the byte budget, keeping the origin', () => {
    const one = imageBytes(loop);
    const h = new History({ origin: boot(loop), interval: 10, budgetBytes: 4 * one });
    h.advance(95);
    expect(h.interval).toBe(40);
    expect(h.checkpointPositions).toEqual([0, 40, 80]);
    expect(h.checkpointBytes).toBeLessThanOrEqual(4 * one);
    h.advance(100);
    expect(h.interval).toBe(80);
    expect(h.checkpointPositions).toEqual([0, 80, 160]);
    expect(h.checkpointBytes).toBeLessThanOrEqual(4 * one);
  });

  it('hold at most the budget in bytes, however long the run (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 2_000 }),
        (interval, copies, steps) => {
          const one = imageBytes(loop);
          const budget = copies * one;
          const h = new History({ origin: boot(loop), interval, budgetBytes: budget });
          h.advance(steps);
          const positions = h.checkpointPositions;
          expect(h.checkpointBytes).toBeLessThanOrEqual(Math.max(budget, one));
          expect(positions[0]).toBe(0);
          // Evenly spaced on the current grid, none missing between the origin and here.
          expect(positions).toEqual(
            Array.from({ length: Math.floor(h.position / h.interval) + 1 }, (_, i) => i * h.interval).filter(
              (p) => p < h.position || p === 0,
            ),
          );
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('space out (K doubles) when taking them costs more than their share of the time', () => {
    // A clock that ticks once per reading: a checkpoint costs as much as a run between two.
    let now = 0;
    const clock = () => now++;
    const dear = new History({ origin: boot(loop), interval: 10, maxCheckpointShare: 0.5, clock });
    dear.advance(200);
    expect(dear.interval).toBeGreaterThan(10);
    const positions = dear.checkpointPositions;
    expect(positions.length).toBeLessThan(20);
    expect(dear.seek(33)).toBe(33); // the ones already taken still serve
    const cheap = new History({ origin: boot(loop), interval: 10, maxCheckpointShare: 2, clock });
    cheap.advance(200);
    expect(cheap.interval).toBe(10);
    expect(cheap.checkpointPositions).toHaveLength(20);
    expect(() => new History({ origin: boot(loop), maxCheckpointShare: 0 })).toThrow(/share/);
  });

  it('space out by as much as the measured cost asks at once (at most 16x a time)', () => {
    let now = 0;
    const clock = () => now++;
    // Four checkpoints cost 4 ticks against 3 ticks of running: 85x a share of 1/64.
    const dear = new History({ origin: boot(loop), interval: 10, maxCheckpointShare: 1 / 64, clock });
    dear.advance(200);
    expect(dear.interval).toBe(160);
    expect(dear.checkpointPositions).toEqual([0, 10, 20, 30, 160]);
    // 4 ticks against 3 at a share of 1/2: 2.7x, so 4x.
    const some = new History({ origin: boot(loop), interval: 10, maxCheckpointShare: 0.5, clock });
    some.advance(45);
    expect(some.interval).toBe(40);
    expect(dear.seek(25)).toBe(25);
  });

  it('keep the origin even when it alone is over the budget', () => {
    const h = new History({ origin: boot(loop), interval: 5, budgetBytes: 1 });
    h.advance(100);
    expect(h.checkpointPositions).toEqual([0]);
    expect(h.seek(3)).toBe(3);
  });

  it('are not taken twice when the same steps run again', () => {
    const h = new History({ origin: boot(loop), interval: 10 });
    h.advance(35);
    h.seek(12);
    h.advance(30);
    expect(h.checkpointPositions).toEqual([0, 10, 20, 30, 40]);
  });

  it('rejects a nonsense interval', () => {
    expect(() => new History({ origin: boot(loop), interval: 0 })).toThrow(/interval/);
    expect(() => new History({ origin: boot(loop), budgetBytes: 0.5 })).toThrow(/budget/);
  });
});

describe('step back', () => {
  it('equals a fresh run to step N-1, for random programs, inputs, N and K (with devices)', () => {
    fc.assert(
      fc.property(
        programArb,
        fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 4 }).map((s) => [...s].sort((a, b) => a - b)),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 6 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (code, stops, interval, max, where) => {
          const h = recordRun(code, stops, interval, max);
          const end = h.position;
          if (end === 0) return;
          const endBytes = bytesAt(h.machine);
          const endOutput = h.output;
          const n = 1 + Math.floor(where * (end - 1));
          h.seek(n);
          expect(h.stepBack()).toBe(n - 1);
          const fresh = freshRun(code, h.inputs, n - 1);
          expect(bytesAt(h.machine)).toEqual(bytesAt(fresh));
          expect(h.output).toBe(fresh.output);
          // Going forward again replays the same input and ends where the first pass did.
          h.advance(MAX_STEPS);
          expect(h.position).toBe(end);
          expect(bytesAt(h.machine)).toEqual(endBytes);
          expect(h.output).toBe(endOutput);
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('input typed after stepping back starts a new timeline', () => {
    const code = [...push(INPUT, 0, 0), Op.DEVICE, ...push(INPUT, 0, 0), Op.DEVICE, Op.ADD];
    const h = new History({ origin: boot(code), interval: 2 });
    expect(h.advance(100).reason).toBe('waiting');
    h.provideInput([1, 2]);
    expect(h.advance(100).reason).toBe('halted');
    expect(h.machine.stack()).toEqual([3]);
    h.seek(4);
    h.provideInput([40]); // the queue of the old timeline ([2]) is still there, then 40
    expect(h.advance(100).reason).toBe('halted');
    expect(h.machine.stack()).toEqual([3]);
    h.seek(0);
    h.provideInput([10, 20]);
    h.advance(100);
    expect(h.machine.stack()).toEqual([30]);
    expect(h.inputs).toEqual([{ position: 0, words: [10, 20] }]);
  });
});

describe('onMachine', () => {
  it('is told of the origin and of every machine restored from a checkpoint, which the history then runs', () => {
    const code = [...push(7), Op.PUSH, 1, Op.ADD, Op.PUSH, 2, Op.JUMP];
    const seen: Machine[] = [];
    const h = new History({ origin: boot(code), interval: 10, onMachine: (m) => seen.push(m) });
    expect(seen).toEqual([h.machine]);
    h.advance(35);
    expect(seen).toHaveLength(1); // forward runs keep the machine
    h.seek(12); // back: from the checkpoint at 10
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(h.machine);
    expect(h.stepBack()).toBe(11);
    expect(seen.at(-1)).toBe(h.machine);
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('findLastBefore', () => {
  it('finds the last step before here where a condition held, and leaves the machine where it was', () => {
    // A loop that counts on the stack: pc 0 is hit once per round.
    const code = [Op.PUSH, 1, Op.ADD, Op.PUSH, 0, Op.JUMP];
    const h = new History({ origin: () => Machine.boot({ code }, { stack: [0] }), interval: 7 });
    h.advance(50);
    const before = bytesAt(h.machine);
    const at = h.findLastBefore((l) => l.pc === 0);
    expect(at).toBe(48);
    expect(h.position).toBe(50);
    expect(bytesAt(h.machine)).toEqual(before);
    expect(h.findLastBefore((l) => l.pc === 0, 48)).toBe(44);
    expect(h.findLastBefore(() => false)).toBeNull();
  });
});
