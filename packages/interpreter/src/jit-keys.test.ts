// Compiled NUMKEY and METERREAD: compiled code puts number keys into general slots and
// reads meters without leaving, paying their gas (more than 1, one step) from its fuel,
// and every case it may not do exactly as the interpreter goes back to the interpreter.
// A differential property ties it to the interpreter: a stepped run (every instruction
// through its handler), then JIT off, on and eager (one-step transfers on and off,
// borrow limits small and large) end in identical machines.
import { DomainSlot, numberKey, UNLIMITED } from '@keyvm/core';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCode } from './jit.js';
import { Machine } from './machine.js';
import { heavyCost } from './ops/cost.js';
import { METER_REFUSED, PageViews } from './page-views.js';
import {
  addDomain,
  asm,
  gated,
  hostDataPage,
  type Items,
  rootPage,
  SEED,
  snapshot,
} from './testing.test-helpers.js';

const NUMKEY_GAS = INSTRUCTIONS[Op.NUMKEY].gas;
const METERREAD_GAS = INSTRUCTIONS[Op.METERREAD].gas;

/**
 * A root domain on a prime time meter of `time` gas, with: 12 a read-write data page,
 * 18 a number key, 20 a controlling key to a child meter of the prime meter (50,000),
 * 21 to a grandchild under 20 (unlimited), 22 a void (severed) key to a child meter,
 * 23 a use-only key to a child of 20 (700).
 */
function machine(
  items: (string | number)[],
  options: { jit?: boolean | 'eager'; time?: number; borrowLimit?: number; fastTransfers?: boolean } = {},
): Machine {
  const m = Machine.boot(
    { code: asm(...items), data: [1, 2, 3, 4] },
    { stackSize: 32, dataSize: 6, time: options.time ?? 1_000_000, ...options },
  );
  const store = m.store;
  const slots = rootPage(m).slots;
  const mem = slots[DomainSlot.MEMORY]!;
  slots[12] = hostDataPage(m, [10, 11, 12, 13, 14, 15]);
  slots[18] = numberKey(7);
  slots[20] = store.createMeter(slots[DomainSlot.TIME]!, 50_000, mem);
  slots[21] = store.createMeter(slots[20]!, UNLIMITED, mem);
  const doomed = store.createMeter(slots[DomainSlot.TIME]!, 100, mem);
  store.sever(doomed);
  slots[22] = doomed;
  slots[23] = store.attenuate(store.createMeter(slots[20]!, 700, mem), 1);
  return m;
}

/** The root's compiled code and views outside the dispatch loop, with `used` gas unsettled. */
function compiled(items: (string | number)[], time = 1_000_000) {
  const m = machine(items, { time });
  const root = rootPage(m);
  const code = m.store.dataPage(root.slots[DomainSlot.CODE]!, false);
  const stack = m.store.dataPage(root.slots[DomainSlot.STACK]!, false);
  const views = new PageViews(m.store, root, code, stack);
  const fn = compileCode(code.words)!;
  const s = new Int32Array(32);
  const regs = new Int32Array(6);
  const run = (fuel = 1000, used = 0, ip = 0) => {
    s.fill(0);
    regs.set([ip, 0, fuel, 32, 0, used]);
    fn(s, regs, views);
    return {
      ip: regs[0]!,
      sp: regs[1]!,
      fuel: regs[2]!,
      noSteps: regs[4]!,
      stack: Array.from(s.subarray(0, regs[1]!)),
    };
  };
  return { m, root, code, stack, views, run };
}

/** Offset of the `n`th (0-based) instruction `name` in `items` as `asm` lays them out. */
function pcOf(items: (string | number)[], name: string, n = 0): number {
  const words = asm(...items);
  let seen = 0;
  for (let pc = 0; pc < words.length; pc += words[pc] === Op.PUSH || words[pc] === Op.PICK ? 2 : 1) {
    if (words[pc] === Op[name as keyof typeof Op] && seen++ === n) return pc;
  }
  throw new Error(`no ${name} #${n}`);
}

/** Everything a run decides: its result, the root's stack and every object in the store. */
function end(m: Machine) {
  const r = m.run();
  return {
    status: r.status,
    fault: r.fault,
    steps: r.steps,
    gasUsed: r.gasUsed,
    stack: m.stack(),
    state: snapshot(m),
  };
}

/**
 * Run `items` stepped with the JIT off (a step hook runs one instruction at a time, so
 * every NUMKEY and METERREAD goes through its handler: the reference), then with the
 * JIT off, on and eager; all must end alike. Returns the (shared) end.
 */
function alike(items: (string | number)[], setUp: (m: Machine) => void = () => {}, time?: number) {
  const ends = (['stepped', false, true, 'eager'] as const).map((jit) => {
    const m = machine(items, {
      jit: jit === 'stepped' ? false : jit,
      ...(time === undefined ? {} : { time }),
    });
    if (jit === 'stepped') m.onStep = () => {};
    setUp(m);
    return end(m);
  });
  for (const e of ends.slice(1)) expect(e).toEqual(ends[0]);
  return ends[0]!;
}

describe('compiled NUMKEY', () => {
  it('puts a number key into a general slot without leaving, paying its gas from the fuel as one step', () => {
    const items = [
      'PUSH',
      19,
      'PUSH',
      5000,
      'NUMKEY',
      'PUSH',
      19,
      'KEYNUM',
      'PUSH',
      27,
      'PUSH',
      3,
      'NUMKEY',
      'HALT',
    ];
    const c = compiled(items);
    const r = c.run();
    expect(r).toEqual({
      ip: pcOf(items, 'HALT'),
      sp: 1,
      fuel: 1000 - 6 - 2 * NUMKEY_GAS,
      noSteps: 2 * (NUMKEY_GAS - 1),
      stack: [5000],
    });
    expect(c.root.slots[19]).toEqual(numberKey(5000));
    expect(c.root.slots[27]).toBe(numberKey(3)); // a small number: the shared key
  });

  it('leaves to the interpreter, the stack as before it, what it may not do', () => {
    const cases: [string, (string | number)[], (c: ReturnType<typeof compiled>) => void, number?][] = [
      ['a special slot (RECV)', ['PUSH', 9, 'PUSH', 1, 'NUMKEY'], () => {}],
      ['the IP slot', ['PUSH', 4, 'PUSH', 1, 'NUMKEY'], () => {}],
      ['the STATE slot', ['PUSH', 3, 'PUSH', 1, 'NUMKEY'], () => {}],
      ['a slot outside the domain', ['PUSH', 28, 'PUSH', 1, 'NUMKEY'], () => {}],
      ['a negative slot', ['PUSH', -1, 'PUSH', 1, 'NUMKEY'], () => {}],
      [
        'a stack page that has run as code',
        ['PUSH', 19, 'PUSH', 1, 'NUMKEY'],
        (c) => {
          c.stack.runCache = {};
        },
      ],
      ['fuel for less than its gas', ['PUSH', 19, 'PUSH', 1, 'NUMKEY'], () => {}, 5 + NUMKEY_GAS - 1],
    ];
    for (const [why, access, setUp, fuel] of cases) {
      const items = ['PUSH', 1, 'PUSH', 2, 'ADD', ...access, 'HALT'];
      const c = compiled(items);
      setUp(c);
      const before = c.root.slots.slice();
      const at = c.run(fuel);
      expect(at.ip, why).toBe(pcOf(items, 'NUMKEY'));
      expect([at.sp, at.noSteps, at.stack.slice(1)], why).toEqual([
        3,
        0,
        access.filter((w) => typeof w === 'number'),
      ]);
      expect(c.root.slots, why).toEqual(before);
    }
  });

  it('makes compiled code drop the page it kept for that slot, within one run (literal and computed slots)', () => {
    // Read word 2 of slot 12 (kept in a local), put a number key there, read again: the
    // second read must leave compiled code (and the interpreter faults wrong-kind).
    for (const slot of [
      ['PUSH', 12],
      ['PUSH', 6, 'PUSH', 6, 'ADD'],
    ]) {
      const items = [
        'PUSH',
        12,
        'PUSH',
        2,
        'PAGEREAD',
        ...slot,
        'PUSH',
        9,
        'NUMKEY',
        'PUSH',
        12,
        'PUSH',
        2,
        'PAGEREAD',
        'HALT',
      ];
      const c = compiled(items);
      const r = c.run();
      expect([r.ip, r.stack], JSON.stringify(slot)).toEqual([pcOf(items, 'PAGEREAD', 1), [12, 12, 2]]);
      const e = alike(items);
      expect([e.status, e.fault?.code, e.fault?.pc]).toEqual([
        'fault',
        'wrong-kind',
        pcOf(items, 'PAGEREAD', 1),
      ]);
    }
  });

  it('inside a compiled loop: the loop writes number keys, a later read of the slot faults as interpreted', () => {
    const items = [
      ...['PUSH', 60, 'loop:'],
      ...[
        'PUSH',
        12,
        'PUSH',
        1,
        'PAGEREAD',
        'DROP',
        'PUSH',
        19,
        'PICK',
        1,
        'NUMKEY',
        'PUSH',
        19,
        'KEYNUM',
        'DROP',
      ],
      // In round 30 slot 12 gets a number key too.
      ...[
        'PICK',
        0,
        'PUSH',
        30,
        'EQ',
        'ISZERO',
        ':skip',
        'SWAP',
        'JUMPIF',
        'PUSH',
        12,
        'PUSH',
        30,
        'NUMKEY',
        'skip:',
      ],
      ...['PUSH', 1, 'SUB', 'DUP', ':loop', 'SWAP', 'JUMPIF', 'HALT'],
    ];
    const e = alike(items);
    expect([e.status, e.fault?.code, e.fault?.pc, e.stack]).toEqual([
      'fault',
      'wrong-kind',
      pcOf(items, 'PAGEREAD'),
      [29, 12, 1],
    ]);
    expect(e.steps).toBeGreaterThan(30 * 20);
  });
});

describe('compiled METERREAD', () => {
  it('reads meters without settling: the same value the interpreter reads after settling', () => {
    const items = [
      'PUSH',
      0,
      'METERREAD',
      'PUSH',
      20,
      'METERREAD',
      'PUSH',
      21,
      'METERREAD',
      'PUSH',
      23,
      'METERREAD',
      'PUSH',
      1,
      'METERREAD',
      'HALT',
    ];
    const c = compiled(items, 50_000);
    const used = 123; // unsettled gas borrowed before this run
    const r = c.run(1000, used);
    const cost = METERREAD_GAS; // the root runs on the prime meter: depth 0
    // On the chain (its own TIME meter): what it has minus what is borrowed and not settled,
    // this instruction's gas and the PUSH before it included. Off the chain: what it has.
    expect(r).toEqual({
      ip: pcOf(items, 'HALT'),
      sp: 5,
      fuel: 1000 - 5 - 5 * cost,
      noSteps: 5 * (cost - 1),
      stack: [50_000 - used - 1 - cost, 50_000, -1, 700, -1],
    });
    // The meters themselves are untouched: compiled code never settles.
    expect(c.m.store.meter(c.root.slots[0]!, false).remaining).toBe(50_000);
  });

  it('costs its table gas plus the running meter depth, as heavyCost says', () => {
    const c = compiled(['HALT']);
    const stack = Int32Array.of(0);
    expect(c.views.meterCost()).toBe(METERREAD_GAS);
    expect(heavyCost(c.m.store, c.root, stack, 1, Op.METERREAD, 0)).toBe(METERREAD_GAS);
    c.root.slots[DomainSlot.TIME] = c.root.slots[21]!; // depth 2
    expect(c.views.meterCost()).toBe(METERREAD_GAS + 2);
    expect(heavyCost(c.m.store, c.root, stack, 1, Op.METERREAD, 2)).toBe(METERREAD_GAS + 2);
    expect(heavyCost(c.m.store, c.root, Int32Array.of(19, 5), 2, Op.NUMKEY, 2)).toBe(NUMKEY_GAS);
    c.root.slots[DomainSlot.TIME] = c.root.slots[22]!; // void: the interpreter's to see
    expect(c.views.meterCost()).toBe(Number.POSITIVE_INFINITY);
    c.root.slots[DomainSlot.TIME] = c.root.slots[1]!; // a memory meter
    expect(c.views.meterCost()).toBe(Number.POSITIVE_INFINITY);
  });

  it('leaves to the interpreter a slot without a live meter key, the IP slot, or too little fuel', () => {
    for (const [why, slot, fuel] of [
      ['a void meter key', 22],
      ['a page key', 12],
      ['a number key', 18],
      ['the IP slot', 4],
      ['the POINTER slot', 6],
      ['a slot outside the domain', 28],
      ['fuel for less than its gas', 0, 1 + METERREAD_GAS - 1],
    ] as const) {
      const items = ['PUSH', slot, 'METERREAD', 'HALT'];
      const c = compiled(items);
      const r = c.run(fuel);
      expect([r.ip, r.sp, r.noSteps, r.stack], why).toEqual([2, 1, 0, [slot]]);
    }
    const c = compiled(['HALT']);
    expect(c.views.meterCost()).toBe(METERREAD_GAS);
    expect(c.views.meterRead(22, 0)).toBe(METER_REFUSED);
  });

  it('clamps to 2^31-1 as the interpreter does', () => {
    const c = compiled(['HALT'], 2 ** 40);
    c.views.meterCost();
    expect(c.views.meterRead(0, 5)).toBe(0x7fffffff);
    expect(alike(['PUSH', 0, 'METERREAD', 'HALT'], () => {}, 2 ** 40).stack).toEqual([0x7fffffff]);
  });

  it('on a child meter, a grandchild and the prime meter, in a compiled loop: as interpreted', () => {
    const loop = (slot: number, label: string) => [
      ...['PUSH', 40, `${label}:`, 'PUSH', slot, 'METERREAD', 'PUSH', 19, 'SWAP', 'NUMKEY'],
      ...['PUSH', 1, 'SUB', 'DUP', `:${label}`, 'SWAP', 'JUMPIF', 'DROP'],
    ];
    // The root moves onto the grandchild (depth 2) half way: reads of its chain change cost.
    const items = [
      ...loop(0, 'a'),
      ...loop(20, 'b'),
      ...['PUSH', 2, 'PUSH', 0, 'PUSH', 2, 'PUSH', 21, 'COPYKEY'],
      ...loop(0, 'c'),
      ...loop(20, 'd'),
      ...loop(23, 'e'),
      ...['PUSH', 19, 'KEYNUM', 'PUSH', 0, 'METERREAD', 'PUSH', 20, 'METERREAD', 'HALT'],
    ];
    const e = alike(items, () => {}, 40_000);
    expect([e.status, e.fault]).toEqual(['halted', undefined]);
    const [seven, own, twenty] = e.stack;
    expect(seven).toBe(700);
    // Running on the unlimited grandchild its own reading is -1; meter 20 paid the second half.
    expect(own).toBe(-1);
    // Exactly what ran after the COPYKEY: three loops of 40 rounds (9 inline instructions, a
    // METERREAD at depth 2 and a NUMKEY each), then KEYNUM and the two reads.
    const round = 9 + METERREAD_GAS + 2 + NUMKEY_GAS;
    expect(twenty).toBe(50_000 - 3 * (2 + 40 * round) - (2 + 2 * (1 + METERREAD_GAS + 2)));
  });
});

// ---- the differential property -------------------------------------------------------

/** Slots with meters (0 TIME, 1 MEMORY, 20 child, 21 grandchild, 22 void, 23 use-only, 24 made by the program) and others. */
const meterSlotArb = fc.constantFrom(0, 0, 0, 20, 21, 23, 1);
const numSlotArb = fc.constantFrom(19, 19, 25, 26, 27);
/** What faults at once (no live meter key, a special slot, a page slot) or breaks later reads: once only. */
const badMeterSlotArb = fc.constantFrom(22, 12, 4, 24, 18);
const badNumSlotArb = fc.constantFrom(12, 24, 9, 5);

/** Stack-neutral pieces of a loop body (the loop counter below them), run every round. */
const everyRound: fc.Arbitrary<Items> = fc.oneof(
  { weight: 6, arbitrary: meterSlotArb.map((s) => ['PUSH', s, 'METERREAD', 'DROP']) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(meterSlotArb, numSlotArb)
      .map(([m, n]) => ['PUSH', n, 'PUSH', m, 'METERREAD', 'NUMKEY']),
  },
  { weight: 4, arbitrary: numSlotArb.map((s) => ['PUSH', s, 'PICK', 1, 'NUMKEY']) },
  { weight: 3, arbitrary: fc.constantFrom(19, 25, 18).map((s) => ['PUSH', s, 'KEYNUM', 'DROP']) },
  { weight: 3, arbitrary: fc.constant<Items>(['PUSH', 12, 'PUSH', 1, 'PAGEREAD', 'DROP']) },
  {
    weight: 2,
    arbitrary: fc.constant<Items>(['PUSH', 8, 'PUSH', 2, 'PAGEREAD', 'PUSH', 8, 'PUSH', 3, 'PAGEWRITE']),
  },
  // Calling a domain on the root's meter (16) or on meter 20 (17): both read their meters and write number keys.
  { weight: 5, arbitrary: fc.constantFrom(16, 17).map((d) => ['PUSH', d, 'PUSH', 12, 'CALL']) },
);
/** Changes to meters and slots, each run in one round only (`gated`). */
const once: fc.Arbitrary<Items> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: -1, max: 4000 })
      .map((n) => ['PUSH', 24, 'PUSH', 0, 'PUSH', n, 'CREATEMETER']),
  },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 6000 }).map((n) => ['PUSH', 20, 'PUSH', n, 'METERSET']) },
  { weight: 1, arbitrary: fc.constantFrom(20, 21, 24).map((s) => ['PUSH', s, 'SEVER']) },
  // The root moves onto another meter of its chain (deeper, or back).
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(20, 21, 24)
      .map((s) => ['PUSH', 2, 'PUSH', 0, 'PUSH', 2, 'PUSH', s, 'COPYKEY']),
  },
  { weight: 1, arbitrary: badNumSlotArb.map((s) => ['PUSH', s, 'PUSH', 5, 'NUMKEY']) },
  { weight: 1, arbitrary: badMeterSlotArb.map((s) => ['PUSH', s, 'METERREAD', 'DROP']) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(2, 3)
      .map((n) => ['PUSH', 2, 'PUSH', 25, 'PUSH', 2, 'PUSH', 20, 'PUSH', n, 'ATTENUATE']),
  },
);

const program = fc.integer({ min: 5, max: 100 }).chain((iterations) =>
  fc.record({
    iterations: fc.constant(iterations),
    body: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: everyRound },
        {
          weight: 1,
          arbitrary: fc
            .tuple(once, fc.integer({ min: 1, max: iterations }))
            .map(([items, round]) => ({ items, round })),
        },
      ),
      { minLength: 1, maxLength: 8 },
    ),
    time: fc.oneof(fc.integer({ min: 2_000, max: 60_000 }), fc.constant(2 ** 33)),
    borrowLimit: fc.constantFrom(undefined, 1, 7, 40, 1000),
  }),
);

/** Two callees: each reads its meter, puts the reading in a number key, reads the page it was handed and returns. */
function children(m: Machine): number[] {
  const root = rootPage(m);
  const body = [
    ...['PUSH', 0, 'METERREAD', 'PUSH', 12, 'SWAP', 'NUMKEY', 'PUSH', 12, 'KEYNUM', 'DROP'],
    ...['PUSH', 13, 'PUSH', 0, 'METERREAD', 'NUMKEY', 'PUSH', 9, 'PUSH', 0, 'PAGEREAD', 'DROP'],
    ...['PUSH', 11, 'PUSH', 9, 'PUSH', 0, 'RETURN', 'PUSH', 0, 'JUMP'],
  ];
  return [addDomain(m, body, { slot: 16 }).id, addDomain(m, body, { slot: 17, time: root.slots[20]! }).id];
}

/** The first is the reference: stepped (one instruction per call), every NUMKEY and METERREAD through its handler. */
const VARIANTS: readonly { jit: boolean | 'eager'; stepped?: boolean; fastTransfers?: boolean }[] = [
  { jit: false, stepped: true },
  { jit: false },
  { jit: true },
  { jit: 'eager' },
  { jit: 'eager', fastTransfers: false },
];

describe('compiled NUMKEY and METERREAD never change a result', () => {
  it(`random loops over meters (own, child, grandchild, use-only, made, severed, set) and number keys end alike with the JIT off, on and eager (seed ${SEED + 41})`, {
    timeout: 60_000,
  }, () => {
    const runs: { steps: number; status: string; sameMeter: boolean; otherMeter: boolean }[] = [];
    fc.assert(
      fc.property(program, ({ iterations, body, time, borrowLimit }) => {
        const pieces = body.map((p, id) => (Array.isArray(p) ? p : gated(p.items, p.round, id)));
        const items = [
          ...['PUSH', iterations, 'loop:', ...pieces.flat()],
          ...['PUSH', 1, 'SUB', 'DUP', ':loop', 'SWAP', 'JUMPIF', 'HALT'],
        ];
        const ends = VARIANTS.map(({ stepped, ...v }) => {
          const m = machine(items, { ...v, time, ...(borrowLimit === undefined ? {} : { borrowLimit }) });
          if (stepped) m.onStep = () => {};
          const [same, other] = children(m);
          const e = end(m);
          // Whether each callee ran (its IP moved): on the root's meter, and on meter 20.
          return { ...e, called: [m.domain(same!).ip !== 0, m.domain(other!).ip !== 0] };
        });
        for (const e of ends.slice(1)) expect(e).toEqual(ends[0]);
        const [sameMeter, otherMeter] = ends[0]!.called as [boolean, boolean];
        runs.push({ steps: ends[0]!.steps, status: ends[0]!.status, sameMeter, otherMeter });
      }),
      { seed: SEED + 41, numRuns: 120 },
    );
    const steps = runs.map((r) => r.steps).sort((a, b) => a - b);
    const median = steps[steps.length >> 1]!;
    const share = (p: (r: (typeof runs)[number]) => boolean) => runs.filter(p).length / runs.length;
    const byStatus = Object.fromEntries(
      ['halted', 'fault', 'out-of-gas'].map((s) => [s, share((r) => r.status === s).toFixed(2)]),
    );
    console.log(
      `jit-keys property: median ${median} steps, ${share((r) => r.steps >= 100).toFixed(2)} of runs >= 100 steps, ` +
        `${share((r) => r.sameMeter).toFixed(2)} call a domain on the same meter, ${share((r) => r.otherMeter).toFixed(2)} on another; ends ${JSON.stringify(byStatus)}`,
    );
    // Callees on the same meter run in the transfer loop's compiled code (its step count).
    expect(share((r) => r.sameMeter)).toBeGreaterThanOrEqual(0.15);
    expect(share((r) => r.otherMeter)).toBeGreaterThanOrEqual(0.15);
    expect(median).toBeGreaterThanOrEqual(100);
    expect(share((r) => r.steps >= 100)).toBeGreaterThanOrEqual(0.5);
    expect(share((r) => r.status === 'halted')).toBeGreaterThanOrEqual(0.2);
    expect(share((r) => r.status === 'out-of-gas')).toBeGreaterThanOrEqual(0.02);
  });
});
