// Compiled page access: compiled code reads, writes and sizes data pages through the
// running domain's slots (PageViews), and every change that could make a resolved page
// stale (resize, sever, destroy, a key put in the slot, a read-only key, a page that
// runs as code) sends the access back to the interpreter, between runs and inside one.
// A differential property ties it together: JIT off, on and eager end in identical machines.
import { DomainSlot, KeyKind, numberKey } from '@keyvm/core';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPILED_HEAVY_OPS, compileCode } from './jit.js';
import { Machine } from './machine.js';
import { heavyCost } from './ops/cost.js';
import { PageViews } from './page-views.js';
import {
  addDomain,
  asm,
  gated,
  hostDataPage,
  type Items,
  pageWords,
  rootPage,
  SEED,
  snapshot,
} from './testing.test-helpers.js';

const MODES = [false, true, 'eager'] as const;

/** A root domain with pages in general slots: 12 read-write, 13 read-only and 14 read-write to a second page, 15 a copy of 12. */
function machine(items: (string | number)[], jit: boolean | 'eager', time?: number): Machine {
  const m = Machine.boot(
    { code: asm(...items), data: [1, 2, 3, 4] },
    { jit, stackSize: 32, dataSize: 6, ...(time === undefined ? {} : { time }) },
  );
  const slots = rootPage(m).slots;
  const p1 = hostDataPage(m, [10, 11, 12, 13, 14, 15]);
  const p2 = hostDataPage(m, [20, 21, 22, 23]);
  slots[12] = p1;
  slots[13] = m.store.attenuate(p2, 1);
  slots[14] = p2;
  slots[15] = p1;
  slots[18] = numberKey(7);
  return m;
}

/** Everything a run decides: its result, the root's stack and every object in the store. */
function end(m: Machine, run: () => ReturnType<Machine['run']>) {
  const r = run();
  return {
    status: r.status,
    fault: r.fault,
    steps: r.steps,
    gasUsed: r.gasUsed,
    stack: m.stack(),
    state: snapshot(m),
  };
}

/** Run `items` with the JIT off, on and eager; all must end alike. Returns the (shared) end. */
function alike(items: (string | number)[], setUp: (m: Machine) => void = () => {}) {
  const ends = MODES.map((jit) => {
    const m = machine(items, jit);
    setUp(m);
    return end(m, () => m.run());
  });
  expect(ends[1]).toEqual(ends[0]);
  expect(ends[2]).toEqual(ends[0]);
  return ends[0]!;
}

/** The root domain's compiled code and views, outside the dispatch loop, for looking at what compiled code does itself. */
function compiled(items: (string | number)[]) {
  const m = machine(items, false);
  const root = rootPage(m);
  const code = m.store.dataPage(root.slots[DomainSlot.CODE]!, false);
  const stack = m.store.dataPage(root.slots[DomainSlot.STACK]!, false);
  const views = new PageViews(m.store, root, code, stack);
  const fn = compileCode(code.words)!;
  const s = new Int32Array(32);
  const regs = Int32Array.from([0, 0, 1000, 32]);
  const run = (ip = 0) => {
    s.fill(0);
    regs.set([ip, 0, 1000, 32]);
    fn(s, regs, views);
    return { ip: regs[0]!, sp: regs[1]!, stack: Array.from(s.subarray(0, regs[1]!)) };
  };
  return { m, root, code, stack, run, regs, s };
}

/** Offset of the `n`th (0-based) instruction `name` in `items` as `asm` lays them out. */
function pcOf(items: (string | number)[], name: string, n = 0): number {
  const words = asm(...items);
  let seen = 0;
  for (let pc = 0; pc < words.length; pc += words[pc] === Op.PUSH ? 2 : 1) {
    if (words[pc] === Op[name as keyof typeof Op] && seen++ === n) return pc;
  }
  throw new Error(`no ${name} #${n}`);
}

describe('compiled page and key access', () => {
  it('costs what the interpreter charges: 1 gas for each compiled heavy instruction, whatever its operands', () => {
    const m = machine([], false);
    const root = rootPage(m);
    for (const op of COMPILED_HEAVY_OPS) {
      for (const operands of [[12, 0], [7, 12, 0], [13], [0, 1 << 20], [1 << 20, 12, 3]]) {
        const stack = Int32Array.from(operands);
        expect(heavyCost(m.store, root, stack, stack.length, op, 5), INSTRUCTIONS[op]!.name).toBe(1);
      }
    }
  });

  it('runs PAGEREAD, PAGEWRITE, PAGESIZEGET, KEYTYPE and KEYNUM without leaving compiled code', () => {
    const items = [
      ...['PUSH', 12, 'PUSH', 2, 'PAGEREAD'], // 12
      ...['PUSH', 99, 'PUSH', 12, 'PUSH', 5, 'PAGEWRITE'],
      ...['PUSH', 14, 'PAGESIZEGET'], // 4
      ...['PUSH', 13, 'KEYTYPE'], // 3: read-only page
      ...['PUSH', 18, 'KEYNUM'], // 7
      ...['PUSH', 8, 'PUSH', 3, 'PAGEREAD'], // 4 (DATA)
      ...['PUSH', 13, 'PUSH', 1, 'PAGEREAD'], // 21 through the read-only key
      'HALT',
    ];
    const c = compiled(items);
    expect(c.run()).toEqual({ ip: pcOf(items, 'HALT'), sp: 6, stack: [12, 4, 3, 7, 4, 21] });
    expect(c.regs[2]).toBe(1000 - 19);
    expect(pageWords(c.m, c.root.slots[12]!)[5]).toBe(99);
    // The same as single instructions (no fast block: each on its own case).
    for (const [op, before, after] of [
      [Op.PAGEREAD, [12, 1], [11]],
      [Op.PAGEWRITE, [5, 12, 0], []],
      [Op.PAGESIZEGET, [12], [6]],
      [Op.KEYTYPE, [14], [KeyKind.page]],
      [Op.KEYNUM, [18], [7]],
    ] as const) {
      const one = compiled([]);
      const fn = compileCode(Int32Array.from([op, Op.HALT]))!;
      const s = new Int32Array(8);
      s.set(before);
      const regs = Int32Array.from([0, before.length, 10, 8]);
      fn(s, regs, new PageViews(one.m.store, one.root, one.code, one.stack));
      expect([regs[0], Array.from(s.subarray(0, regs[1]!))]).toEqual([1, after]);
    }
  });

  it('leaves to the interpreter what it may not do, with the stack as before the instruction', () => {
    const cases: [string, (string | number)[]][] = [
      ['an index past the end', ['PUSH', 12, 'PUSH', 6, 'PAGEREAD']],
      ['a negative index', ['PUSH', 1, 'PUSH', 12, 'PUSH', -1, 'PAGEWRITE']],
      ['a write through a read-only key', ['PUSH', 1, 'PUSH', 13, 'PUSH', 0, 'PAGEWRITE']],
      ['the stack page', ['PUSH', 7, 'PUSH', 0, 'PAGEREAD']],
      ['a write to the code page', ['PUSH', 1, 'PUSH', 5, 'PUSH', 0, 'PAGEWRITE']],
      ['a key page', ['PUSH', 2, 'PAGESIZEGET']],
      ['a number key', ['PUSH', 18, 'PUSH', 0, 'PAGEREAD']],
      ['a slot outside the domain', ['PUSH', 1000, 'KEYTYPE']],
      ['KEYNUM of a page key', ['PUSH', 12, 'KEYNUM']],
      ['KEYNUM of the IP register', ['PUSH', 4, 'KEYNUM']],
    ];
    for (const [why, access] of cases) {
      const items = ['PUSH', 1, 'PUSH', 2, 'ADD', ...access, 'HALT'];
      const c = compiled(items);
      const at = c.run();
      const pushes = access.filter((w) => w === 'PUSH').length;
      expect(at.ip, why).toBe(items.length - 2); // the access itself (each PUSH is two words, as in items)
      expect(at.sp, why).toBe(1 + pushes);
    }
  });

  it('reads the page again after each change between runs: resize, sever, destroy, another key in the slot', () => {
    const items = ['PUSH', 15, 'PUSH', 3, 'PAGEREAD', 'PUSH', 12, 'PUSH', 3, 'PAGEREAD', 'HALT'];
    const halt = pcOf(items, 'HALT');
    const c = compiled(items);
    const store = c.m.store;
    expect(c.run()).toEqual({ ip: halt, sp: 2, stack: [13, 13] });
    // A write from the host lands in the same words.
    store.writeWord(c.root.slots[12]!, 3, 42);
    expect(c.run().stack).toEqual([42, 42]);
    // Resized: new words (the old index still inside).
    store.resizePage(c.root.slots[12]!, 5);
    store.writeWord(c.root.slots[12]!, 3, 43);
    expect(c.run().stack).toEqual([43, 43]);
    // Resized below the index: both stop at their read.
    store.resizePage(c.root.slots[12]!, 3);
    expect(c.run()).toEqual({ ip: 4, sp: 2, stack: [15, 3] });
    store.resizePage(c.root.slots[12]!, 6);
    // Another key in slot 15 (a key object never changes: a new one is put there).
    c.root.slots[15] = c.root.slots[14]!;
    expect(c.run().stack).toEqual([23, 0]);
    // Severed through slot 12: the copy in 15 (put back) is void, slot 12 gets the fresh key.
    c.root.slots[15] = c.root.slots[12]!;
    c.root.slots[12] = store.sever(c.root.slots[12]!);
    expect(c.run()).toEqual({ ip: 4, sp: 2, stack: [15, 3] });
    expect(c.run(5)).toEqual({ ip: halt, sp: 1, stack: [0] });
    // Destroyed: every key void.
    store.destroyPage(c.root.slots[12]!);
    expect(c.run(5).ip).toBe(9);
  });

  it('writes through views only while the page does not run as code and the key stays read-write', () => {
    const items = ['PUSH', 7, 'PUSH', 12, 'PUSH', 0, 'PAGEWRITE', 'HALT'];
    const c = compiled(items);
    expect(c.run().ip).toBe(7);
    // Slot 12's page becomes another domain's code page and gets compiled: the store's writes count.
    const page = c.m.store.dataPage(c.root.slots[12]!, false);
    page.runCache = {};
    expect(c.run().ip).toBe(6);
    page.runCache = undefined;
    expect(c.run().ip).toBe(7);
    c.root.slots[12] = c.m.store.attenuate(c.root.slots[12]!, 1);
    expect(c.run().ip).toBe(6);
  });
});

describe('the IP and POINTER slots read the registers in compiled code too', () => {
  it('whatever key the slot holds: KEYTYPE says number, and a page access faults wrong-kind', () => {
    const items = ['PUSH', 4, 'KEYTYPE', 'PUSH', 6, 'KEYTYPE', 'PUSH', 4, 'PUSH', 0, 'PAGEREAD', 'HALT'];
    const r = alike(items, (m) => {
      const root = rootPage(m);
      root.slots[DomainSlot.IP] = root.slots[12]!; // read as IP 0 on entry
      root.slots[DomainSlot.POINTER] = root.slots[12]!;
    });
    expect([r.status, r.fault?.code, r.stack]).toEqual(['fault', 'wrong-kind', [1, 1, 4, 0]]);
  });
});

describe('invalidation inside a compiled run ends as interpreted', () => {
  // Each warms a loop up (compiled from the start when eager), then changes the page or
  // the slot, then touches it again, all in one run.
  let loops = 0;
  /** 50 rounds of: read word 3 of slot 12 and write it to word 4, read word 5 through slot 15. */
  const warm = () => {
    const label = `loop${loops++}`;
    return [
      ...['PUSH', 50, `${label}:`],
      ...['PUSH', 12, 'PUSH', 3, 'PAGEREAD', 'PUSH', 12, 'PUSH', 4, 'PAGEWRITE'],
      ...['PUSH', 15, 'PUSH', 5, 'PAGEREAD', 'DROP'],
      ...['PUSH', 1, 'SUB', 'DUP', `:${label}`, 'SWAP', 'JUMPIF', 'DROP'],
    ];
  };

  it('a resize below an index it reads faults out-of-bounds at that read', () => {
    const items = [...warm(), 'PUSH', 12, 'PUSH', 2, 'PAGESIZESET', ...warm(), 'HALT'];
    const r = alike(items);
    expect([r.status, r.fault?.code, r.fault?.pc]).toEqual([
      'fault',
      'out-of-bounds',
      pcOf(items, 'PAGEREAD', 2),
    ]);
    expect(r.stack).toEqual([50, 12, 3]);
  });

  it('a resize that keeps the index reads and writes the new words', () => {
    const items = [
      ...warm(),
      'PUSH',
      12,
      'PUSH',
      8,
      'PAGESIZESET',
      ...warm(),
      'PUSH',
      12,
      'PUSH',
      7,
      'PAGEREAD',
      'HALT',
    ];
    const r = alike(items);
    expect([r.status, r.stack]).toEqual(['halted', [0]]);
    const words = r.state.objects.map((o) => (o as { words?: number[] }).words);
    expect(words).toContainEqual([10, 11, 12, 13, 13, 15, 0, 0]);
  });

  it('a sever voids the copy in slot 15 and the loop faults null-key there', () => {
    const items = [...warm(), 'PUSH', 12, 'SEVER', ...warm(), 'HALT'];
    const r = alike(items);
    expect([r.status, r.fault?.code, r.fault?.pc]).toEqual(['fault', 'null-key', pcOf(items, 'PAGEREAD', 3)]);
  });

  it('a destroy voids the page and the loop faults null-key at its first read', () => {
    const items = [...warm(), 'PUSH', 15, 'DESTROY', ...warm(), 'HALT'];
    const r = alike(items);
    expect([r.status, r.fault?.code, r.fault?.pc]).toEqual(['fault', 'null-key', pcOf(items, 'PAGEREAD', 2)]);
  });

  it('a key copied into the slot redirects the loop to the other page', () => {
    const items = [...warm(), ...['PUSH', 2, 'PUSH', 12, 'PUSH', 2, 'PUSH', 8, 'COPYKEY'], ...warm(), 'HALT'];
    const r = alike(items);
    expect(r.status).toBe('halted');
    const words = r.state.objects.map((o) => (o as { words?: number[] }).words);
    expect(words).toContainEqual([1, 2, 3, 4, 4, 0]); // the DATA page now
    expect(words).toContainEqual([10, 11, 12, 13, 13, 15]);
  });

  it('a read-only key put in the slot makes the next write fault rights-violation', () => {
    const items = [
      ...warm(),
      ...['PUSH', 2, 'PUSH', 12, 'PUSH', 2, 'PUSH', 12, 'PUSH', 1, 'ATTENUATE'],
      ...warm(),
      'HALT',
    ];
    const r = alike(items);
    expect([r.status, r.fault?.code, r.fault?.pc]).toEqual([
      'fault',
      'rights-violation',
      pcOf(items, 'PAGEWRITE', 1),
    ]);
  });

  it('a callee that resizes the page it was handed: the caller faults on its next read past the end', () => {
    const items = [...warm(), 'PUSH', 16, 'PUSH', 12, 'CALL', ...warm(), 'HALT'];
    const r = alike(items, (m) => {
      addDomain(m, ['PUSH', 9, 'PUSH', 3, 'PAGESIZESET', 'PUSH', 11, 'PUSH', 9, 'PUSH', 0, 'RETURN'], {
        slot: 16,
      });
    });
    expect([r.status, r.fault?.code, r.fault?.pc]).toEqual([
      'fault',
      'out-of-bounds',
      pcOf(items, 'PAGEREAD', 2),
    ]);
    expect(r.stack).toEqual([50, 12, 3]);
  });

  it('NUMKEY into the slot makes the next read leave compiled code and fault wrong-kind', () => {
    const items = [...warm(), 'PUSH', 15, 'PUSH', 5, 'NUMKEY', ...warm(), 'HALT'];
    const r = alike(items);
    expect([r.status, r.fault?.code, r.fault?.pc]).toEqual([
      'fault',
      'wrong-kind',
      pcOf(items, 'PAGEREAD', 3),
    ]);
  });
});

// ---- the differential property -------------------------------------------------------

/** Slots the random programs reach pages through (8 DATA, 12 and 14 read-write, 13 read-only, 15 a copy of 12). */
const PAGE_SLOTS = [8, 12, 13, 14, 15];
const slotArb = fc.constantFrom(...PAGE_SLOTS);
const writableArb = fc.constantFrom(8, 12, 14);
const indexArb = fc.integer({ min: 0, max: 4 });
/** Stack-neutral pieces of a loop body (the loop counter below them), run every round. */
const everyRound: fc.Arbitrary<Items> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(slotArb, indexArb).map(([s, i]) => ['PUSH', s, 'PUSH', i, 'PAGEREAD', 'DROP']),
  },
  {
    weight: 6,
    arbitrary: fc
      .tuple(slotArb, indexArb, writableArb, indexArb)
      .map(([s, i, d, j]) => ['PUSH', s, 'PUSH', i, 'PAGEREAD', 'PUSH', d, 'PUSH', j, 'PAGEWRITE']),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(writableArb, indexArb)
      .map(([s, i]) => ['PICK', 0, 'PUSH', s, 'PUSH', i, 'PAGEWRITE']),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(writableArb, indexArb)
      .map(([s, i]) => [
        'PUSH',
        s,
        'PUSH',
        i,
        'PAGEREAD',
        'PUSH',
        1,
        'ADD',
        'PUSH',
        s,
        'PUSH',
        i,
        'PAGEWRITE',
      ]),
  },
  // Indexed by the loop counter, inside the page's size.
  {
    weight: 3,
    arbitrary: slotArb.map((s) => [
      'PUSH',
      s,
      'PICK',
      1,
      'PUSH',
      s,
      'PAGESIZEGET',
      'MOD',
      'PAGEREAD',
      'DROP',
    ]),
  },
  { weight: 2, arbitrary: slotArb.map((s) => ['PUSH', s, 'PAGESIZEGET', 'DROP']) },
  { weight: 2, arbitrary: fc.constantFrom(...PAGE_SLOTS, 16, 18).map((s) => ['PUSH', s, 'KEYTYPE', 'DROP']) },
  { weight: 1, arbitrary: fc.constant<Items>(['PUSH', 18, 'KEYNUM', 'DROP']) },
  { weight: 1, arbitrary: fc.constant<Items>(['PUSH', 18, 'PICK', 1, 'NUMKEY']) },
  // Handing a page to a domain that adds 1 to its word 0, or one that resizes it (5 to 12 words).
  {
    weight: 4,
    arbitrary: fc.tuple(fc.constantFrom(16, 17), slotArb).map(([d, s]) => ['PUSH', d, 'PUSH', s, 'CALL']),
  },
);
/** Changes to pages and slots, each run in one round only (`gated`), so runs get deep before them. */
const once: fc.Arbitrary<Items> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(8, 12, 14, 15), fc.integer({ min: 0, max: 9 }))
      .map(([s, n]) => ['PUSH', s, 'PUSH', n, 'PAGESIZESET']),
  },
  { weight: 2, arbitrary: fc.constantFrom(12, 14, 15).map((s) => ['PUSH', s, 'SEVER']) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(12, 13, 14, 15), slotArb)
      .map(([d, s]) => ['PUSH', 2, 'PUSH', d, 'PUSH', 2, 'PUSH', s, 'COPYKEY']),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(12, 14, 15), slotArb)
      .map(([d, s]) => ['PUSH', 2, 'PUSH', d, 'PUSH', 2, 'PUSH', s, 'PUSH', 1, 'ATTENUATE']),
  },
  { weight: 1, arbitrary: fc.constant<Items>(['PUSH', 15, 'PUSH', 3, 'NUMKEY']) },
  { weight: 1, arbitrary: fc.constantFrom(14, 15).map((s) => ['PUSH', s, 'DESTROY']) },
  { weight: 1, arbitrary: slotArb.map((s) => ['PUSH', s, 'PUSH', 9, 'PAGEREAD', 'DROP']) },
);

const program = fc.integer({ min: 5, max: 120 }).chain((iterations) =>
  fc.record({
    iterations: fc.constant(iterations),
    body: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: everyRound },
        {
          weight: 1,
          arbitrary: fc.tuple(once, fc.integer({ min: 1, max: iterations })).map(([items, round]) => ({
            items,
            round,
          })),
        },
      ),
      { minLength: 1, maxLength: 10 },
    ),
    gas: fc.option(fc.integer({ min: 3_000, max: 60_000 }), { nil: undefined }),
  }),
);

/** The reader: adds 1 to word 0 of the page it was handed when it may; the resizer: resizes it to 5 + (size + 1) mod 8. */
const children = (m: Machine) => {
  const ret = ['ret:', 'PUSH', 11, 'PUSH', 9, 'PUSH', 0, 'RETURN', 'PUSH', 0, 'JUMP'];
  const onlyReadWrite = ['PUSH', 9, 'KEYTYPE', 'PUSH', 2, 'EQ', 'ISZERO', ':ret', 'SWAP', 'JUMPIF'];
  const reader = addDomain(
    m,
    [
      ...onlyReadWrite,
      ...['PUSH', 9, 'PAGESIZEGET', 'ISZERO', ':ret', 'SWAP', 'JUMPIF'],
      ...['PUSH', 9, 'PUSH', 0, 'PAGEREAD', 'PUSH', 1, 'ADD', 'PUSH', 9, 'PUSH', 0, 'PAGEWRITE'],
      ...ret,
    ],
    { slot: 16 },
  );
  const resizer = addDomain(
    m,
    [
      ...onlyReadWrite,
      ...[
        'PUSH',
        9,
        'PUSH',
        9,
        'PAGESIZEGET',
        'PUSH',
        1,
        'ADD',
        'PUSH',
        7,
        'AND',
        'PUSH',
        5,
        'ADD',
        'PAGESIZESET',
      ],
      ...ret,
    ],
    { slot: 17 },
  );
  return [reader.id, resizer.id];
};

describe('compiled page access never changes a result', () => {
  // Over a second alone; the timeout is for a loaded machine.
  it(`random programs over pages read, written, resized, severed, shared and made read-only end alike with the JIT off, on and eager (seed ${SEED + 40})`, {
    timeout: 60_000,
  }, () => {
    const runs: { steps: number; status: string; called: boolean }[] = [];
    fc.assert(
      fc.property(program, ({ iterations, body, gas }) => {
        const pieces = body.map((p, id) => (Array.isArray(p) ? p : gated(p.items, p.round, id)));
        const items = [
          ...['PUSH', iterations, 'loop:', ...pieces.flat()],
          ...['PUSH', 1, 'SUB', 'DUP', ':loop', 'SWAP', 'JUMPIF', 'HALT'],
        ];
        const ends = MODES.map((jit) => {
          const m = machine(items, jit, gas);
          const ids = children(m);
          const e = end(m, () => m.run());
          return { ...e, called: ids.some((id) => m.domain(id).ip !== 0) };
        });
        expect(ends[1]).toEqual(ends[0]);
        expect(ends[2]).toEqual(ends[0]);
        runs.push({ steps: ends[0]!.steps, status: ends[0]!.status, called: ends[0]!.called });
      }),
      { seed: SEED + 40, numRuns: 150 },
    );
    // The generator must reach deep states: most runs take many steps, few fault at once.
    const steps = runs.map((r) => r.steps).sort((a, b) => a - b);
    const median = steps[steps.length >> 1]!;
    const share = (p: (r: (typeof runs)[number]) => boolean) => runs.filter(p).length / runs.length;
    const deep = share((r) => r.steps >= 100);
    const early = share((r) => r.status === 'fault' && r.steps < 10);
    const called = share((r) => r.called);
    const byStatus = Object.fromEntries(
      ['halted', 'fault', 'out-of-gas'].map((s) => [s, share((r) => r.status === s).toFixed(2)]),
    );
    console.log(
      `jit-pages property: median ${median} steps, ${deep.toFixed(2)} of runs >= 100 steps, ` +
        `${early.toFixed(2)} fault within 10 steps, ${called.toFixed(2)} call a domain; ends ${JSON.stringify(byStatus)}`,
    );
    expect(median).toBeGreaterThanOrEqual(300);
    expect(deep).toBeGreaterThanOrEqual(0.6);
    expect(early).toBeLessThanOrEqual(0.15);
    expect(called).toBeGreaterThanOrEqual(0.2);
    expect(share((r) => r.status === 'halted')).toBeGreaterThanOrEqual(0.3);
  });
});
