// Properties of generated programs (fast-check, fixed printed seed; KEYVM_SEED
// replays another): determinism, stepping == running, atomic faults, gas never
// above the limit, and capability safety (no page is reached without a key).
import { DomainSlot, KeyKind, type KeyPage, ObjectKind, PageType } from '@keyvm/core';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Machine } from './machine.js';
import { rootPage, SEED, snapshot, undoFaultRecord } from './testing.test-helpers.js';

console.log(`interpreter properties: seed ${SEED} (set KEYVM_SEED to replay another)`);

const MAX_STEPS = 300;

/**
 * A random mix of instructions with small operands (slot numbers, sizes, indices,
 * options), now and then a large word, a bare opcode word or a word that is no
 * instruction. Any instruction may appear, key and page operations included.
 */
/** Operands: mostly slots that hold something (or will), else any small word. */
const operandArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18) },
  { weight: 2, arbitrary: fc.integer({ min: -1, max: 30 }) },
);

/**
 * Guest code that builds a child domain running the code its `code` slot names (this
 * same code for CODE): key page in 15, stack page in 17, gate in 18 (then CALL 18,
 * FORK 18, KEEPER copies... mean something).
 */
const childMaker = (code: number, time: number = DomainSlot.TIME): number[] =>
  (
    [
      [Op.CREATEPAGE, 15, PageType.keys, DomainSlot.MEMORY, 28],
      [Op.CREATEPAGE, 17, PageType.data, DomainSlot.MEMORY, 8],
      [Op.COPYKEY, 15, DomainSlot.TIME, DomainSlot.SELF, time],
      [Op.COPYKEY, 15, DomainSlot.MEMORY, DomainSlot.SELF, DomainSlot.MEMORY],
      [Op.COPYKEY, 15, DomainSlot.CODE, DomainSlot.SELF, code],
      [Op.COPYKEY, 15, DomainSlot.STACK, DomainSlot.SELF, 17],
      [Op.MAKEDOMAIN, 18, 15],
    ] as const
  ).flatMap(([opcode, ...args]) => [...args.flatMap((a) => [Op.PUSH, a]), opcode]);
const makeChild = childMaker(DomainSlot.CODE);

/** Call the child (gate in 18), and return to a caller (resume key in 11) with word 7. */
const callChild = [Op.PUSH, 18, Op.PUSH, 0, Op.CALL];
const returnToCaller = [Op.PUSH, DomainSlot.RESUME, Op.PUSH, 0, Op.PUSH, 7, Op.RETURN];

/** One program item: an instruction (with or without its operands pushed) or a snippet. */
const itemArb: fc.Arbitrary<readonly number[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(makeChild) },
  { weight: 2, arbitrary: fc.constant(callChild) },
  { weight: 3, arbitrary: fc.constant(returnToCaller) },
  // An instruction with all its operands pushed first: most of these succeed, so
  // programs get deep (pages made, keys copied, domains made and called).
  {
    weight: 8,
    arbitrary: fc.integer({ min: 1, max: INSTRUCTIONS.length - 1 }).chain((o) =>
      fc
        .array(operandArb, {
          minLength: INSTRUCTIONS[o]!.pops,
          maxLength: INSTRUCTIONS[o]!.pops,
        })
        .map((args) => [...args.flatMap((a) => [Op.PUSH, a]), o]),
    ),
  },
  { weight: 6, arbitrary: fc.integer({ min: -2, max: 30 }).map((v) => [Op.PUSH, v]) },
  { weight: 5, arbitrary: fc.integer({ min: 1, max: INSTRUCTIONS.length - 1 }).map((o) => [o]) },
  { weight: 1, arbitrary: fc.integer().map((v) => [Op.PUSH, v]) },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: INSTRUCTIONS.length + 3 }).map((w) => [w]) },
);

const programArb = fc.array(itemArb, { maxLength: 48 }).map((items) => Int32Array.from(items.flat()));

interface Setup {
  code: Int32Array;
  quantum: number;
  input: number[];
}

const setupArb: fc.Arbitrary<Setup> = fc.record({
  code: programArb,
  quantum: fc.integer({ min: 1, max: 40 }),
  input: fc.array(fc.integer({ min: -3, max: 30 }), { maxLength: 3 }),
});

const bootSetup = (s: Setup, time?: number, jit: boolean | 'eager' = true, borrowLimit?: number): Machine => {
  const m = Machine.boot(
    { code: s.code, data: [1, 2, 3] },
    {
      stackSize: 16,
      dataSize: 8,
      memory: 4096,
      quantum: s.quantum,
      jit,
      ...(time === undefined ? {} : { time }),
      ...(borrowLimit === undefined ? {} : { borrowLimit }),
    },
  );
  m.provideInput(s.input);
  return m;
};

/** Everything observable: store snapshot, domain views and stacks, output. */
const observe = (m: Machine) => ({
  snapshot: snapshot(m),
  domains: m.domains().map((d) => ({ ...d, stack: m.stack(d.id) })),
});

// Each property takes a few seconds alone; the timeout leaves room for a loaded machine.
describe('properties of generated programs', () => {
  it(`determinism: two runs end in identical states (seed ${SEED})`, { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(setupArb, (s) => {
        const a = bootSetup(s);
        const b = bootSetup(s);
        const ra = a.run({ maxSteps: MAX_STEPS });
        const rb = b.run({ maxSteps: MAX_STEPS });
        expect(rb).toEqual(ra);
        expect(observe(b)).toEqual(observe(a));
        // And again from there (a paused machine continues alike).
        expect(b.run({ maxSteps: 50 })).toEqual(a.run({ maxSteps: 50 }));
        expect(observe(b)).toEqual(observe(a));
      }),
      { seed: SEED, numRuns: 800 },
    );
  });

  it(`the JIT changes nothing: compiled, eager and interpreted runs end alike (seed ${SEED + 5})`, {
    timeout: 60_000,
  }, () => {
    // Programs that make and call domains (on the caller's meter, which the loop
    // follows without leaving), return, self-modify and fault.
    // Every program starts by making a child that runs the same code, so CALLs land.
    const calling = setupArb.map((s) => ({ ...s, code: Int32Array.from([...makeChild, ...s.code]) }));
    fc.assert(
      fc.property(
        calling,
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 40 }),
        (s, gas, borrow) => {
          // And a small borrow limit, so the interpreter borrows again and again.
          const runs = ([false, true, 'eager', 'borrow'] as const).map((way) => {
            const m = way === 'borrow' ? bootSetup(s, gas, true, borrow) : bootSetup(s, gas, way);
            return { r: m.run({ maxSteps: MAX_STEPS }), state: observe(m) };
          });
          for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
        },
      ),
      { seed: SEED + 5, numRuns: 600 },
    );
  });

  it(`the JIT and one-step transfers change nothing for a server called again and again (seed ${SEED + 6})`, {
    timeout: 60_000,
  }, () => {
    // A root that makes a server and calls it again and again, between random items;
    // the server answers in a loop, also between random items. The server's code is
    // the root's DATA page, so the root can rewrite it. Transfers after the first
    // mostly take the one-step path (on the root's meter or its own); random items make
    // it hand over to the general one (a fault, a used resume key, a busy domain,
    // a full stack, a page severed or resized, keys replaced...).
    const callServer = fc
      .tuple(
        fc.constantFrom(Op.CALL, Op.CALLW),
        fc.constantFrom(0, 8, 15, 17),
        fc.integer({ min: -2, max: 9 }),
      )
      .map(([op, msg, word]) =>
        op === Op.CALL ? [Op.PUSH, 18, Op.PUSH, msg, op] : [Op.PUSH, 18, Op.PUSH, msg, Op.PUSH, word, op],
      );
    // It answers through its resume key, or through a copy of it kept in slot 12, and
    // may send the resume key itself as the reply: copies the one-step path must see
    // before it renews a resume key in place.
    const answer = fc
      .tuple(
        fc.constantFrom(DomainSlot.RESUME, DomainSlot.RESUME, 12),
        fc.constantFrom(0, 8, 9, 11, 17),
        fc.integer({ min: -2, max: 9 }),
      )
      .map(([through, key, word]) => [Op.PUSH, through, Op.PUSH, key, Op.PUSH, word, Op.RETURN]);
    const keepResume = [DomainSlot.SELF, 12, DomainSlot.SELF, DomainSlot.RESUME].flatMap((a) => [Op.PUSH, a]);
    const serverItem = fc.oneof(
      { weight: 6, arbitrary: answer },
      { weight: 1, arbitrary: fc.constant<number[]>([...keepResume, Op.COPYKEY]) },
    );
    const mixed = (snippet: fc.Arbitrary<number[]>) =>
      fc.array(fc.oneof({ weight: 3, arbitrary: snippet }, { weight: 1, arbitrary: itemArb }), {
        maxLength: 24,
      });
    const serving = fc.record({
      root: mixed(callServer),
      server: mixed(serverItem),
      quantum: fc.integer({ min: 1, max: 40 }),
      gas: fc.integer({ min: 1, max: 3000 }),
      // The server's own time meter (a child of the root's, holding this much), or none.
      meter: fc.option(fc.integer({ min: -1, max: 400 })),
      borrow: fc.integer({ min: 1, max: 40 }),
    });
    // Interpreted and compiled, with transfers in one step and through the general
    // path; and compiled, borrowing at most `borrow` gas at a time.
    const ways = [
      [false, false, false],
      [false, true, false],
      [true, true, false],
      ['eager', true, false],
      ['eager', false, false],
      [true, true, true],
    ] as const;
    fc.assert(
      fc.property(serving, ({ root, server, quantum, gas, meter, borrow }) => {
        // The server loops: its items, then back to 0.
        const serverCode = [...server.flat(), Op.PUSH, 0, Op.JUMP];
        const ownMeter =
          meter === null
            ? childMaker(DomainSlot.DATA)
            : [
                Op.PUSH,
                19,
                Op.PUSH,
                DomainSlot.TIME,
                Op.PUSH,
                meter,
                Op.CREATEMETER,
                ...childMaker(DomainSlot.DATA, 19),
              ];
        const code = Int32Array.from([...ownMeter, ...root.flat()]);
        const runs = ways.map(([jit, fast, small]) => {
          const m = Machine.boot(
            { code, data: serverCode },
            {
              stackSize: 16,
              memory: 4096,
              quantum,
              time: gas,
              jit,
              fastTransfers: fast,
              ...(small ? { borrowLimit: borrow } : {}),
            },
          );
          return { r: m.run({ maxSteps: MAX_STEPS }), state: observe(m) };
        });
        for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
      }),
      { seed: SEED + 6, numRuns: 500 },
    );
  });

  it(`stepping one instruction at a time ends where one run does (seed ${SEED + 1})`, {
    timeout: 60_000,
  }, () => {
    fc.assert(
      fc.property(setupArb, (s) => {
        const a = bootSetup(s);
        const b = bootSetup(s);
        const ra = a.run({ maxSteps: 150 });
        let steps = 0;
        let gas = 0;
        let last = b.step();
        for (;;) {
          steps += last.steps;
          gas += last.gasUsed;
          if (last.status !== 'paused' || steps >= 150) break;
          last = b.step();
        }
        expect(steps).toBe(ra.steps);
        expect(gas).toBe(ra.gasUsed);
        if (ra.status !== 'paused') expect(last.status).toBe(ra.status);
        expect(observe(b)).toEqual(observe(a));
      }),
      { seed: SEED + 1, numRuns: 600 },
    );
  });

  it(`atomic faults: a faulting step changes nothing but the fault record (seed ${SEED + 2})`, {
    timeout: 60_000,
  }, () => {
    let faults = 0;
    fc.assert(
      fc.property(setupArb, (s) => {
        const m = bootSetup(s);
        for (let i = 0; i < 120; i++) {
          const before = snapshot(m);
          const views = new Map(m.domains().map((d) => [d.id, { ...d, stack: m.stack(d.id) }]));
          const r = m.step();
          if (r.status === 'paused') continue;
          // A fault at the domain's own instruction (not on entering a domain after a switch)
          // and handled by no keeper (a keeper's takeover changes its state too).
          if (r.status !== 'fault' || r.steps !== 0) break;
          const f = r.fault!;
          const prev = views.get(f.domain)!;
          if (prev.slots[DomainSlot.KEEPER]!.kind === KeyKind.domain) break;
          faults++;
          expect(f.pc).toBe(prev.ip);
          expect(r.gasUsed).toBe(0);
          expect(m.stack(f.domain)).toEqual(prev.stack);
          expect(m.domain(f.domain)).toMatchObject({ ip: prev.ip, sp: prev.sp, stateName: 'faulted' });
          const after = undoFaultRecord(before, snapshot(m), f.domain);
          // A used-up time slice rolls over before the next instruction, faulting or not.
          if (before.kernel.sliceLeft <= 0 && after.kernel.sliceLeft === s.quantum)
            after.kernel.sliceLeft = before.kernel.sliceLeft;
          expect(after).toEqual(before);
          break;
        }
      }),
      { seed: SEED + 2, numRuns: 1500 },
    );
    // The generator must actually produce faults for this to mean anything.
    expect(faults).toBeGreaterThan(600);
  });

  it(`gas used never exceeds the limit, and resuming with more gas keeps to it (seed ${SEED + 3})`, {
    timeout: 60_000,
  }, () => {
    fc.assert(
      fc.property(
        setupArb,
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 120 }),
        (s, gas, more) => {
          const m = bootSetup(s, gas);
          const r = m.run({ maxSteps: MAX_STEPS });
          expect(r.gasUsed).toBeLessThanOrEqual(gas);
          expect(r.gasUsed).toBeGreaterThanOrEqual(r.steps);
          expect(m.store.primeTime.remaining).toBe(gas - r.gasUsed);
          if (r.status === 'out-of-gas') {
            const r2 = m.run({ gas: more, maxSteps: MAX_STEPS });
            expect(r2.gasUsed).toBeLessThanOrEqual(more);
            expect(m.store.primeTime.remaining).toBe(more - r2.gasUsed);
          }
        },
      ),
      { seed: SEED + 3, numRuns: 2000 },
    );
  });

  it(`capability safety: pages without a key stay untouched and unreached (seed ${SEED + 4})`, {
    timeout: 60_000,
  }, () => {
    const SECRET = [0x5ec7e7, -0x5ec7e7, 0x7eadbeef, 42];
    const PUBLIC = [7, 8, 9];
    fc.assert(
      fc.property(setupArb, (s) => {
        const m = bootSetup(s);
        const store = m.store;
        const mem = rootPage(m).slots[DomainSlot.MEMORY]!;
        // A page no key reaches: the host made it and kept no key.
        const secretKey = store.createPage(PageType.data, mem, SECRET.length);
        store.dataPage(secretKey, true).words.set(SECRET);
        const secretId = secretKey.target;
        // A page the root may read but never change: only a read-only key exists.
        const publicKey = store.createPage(PageType.data, mem, PUBLIC.length);
        store.dataPage(publicKey, true).words.set(PUBLIC);
        rootPage(m).slots[16] = store.attenuate(publicKey, 1);
        const publicId = publicKey.target;
        // Count every resolution of a key to the secret page, however it is made.
        let reached = 0;
        const deref = store.deref.bind(store);
        store.deref = (key) => {
          if (key.target === secretId) reached++;
          return deref(key);
        };

        m.run({ maxSteps: MAX_STEPS });

        expect(reached).toBe(0);
        const secret = store.object(secretId);
        expect(secret?.kind).toBe(ObjectKind.dataPage);
        expect(secret && secret.kind === ObjectKind.dataPage && Array.from(secret.words)).toEqual(SECRET);
        expect(secret?.version).toBe(0);
        const pub = store.object(publicId);
        expect(pub && pub.kind === ObjectKind.dataPage && Array.from(pub.words)).toEqual(PUBLIC);
        expect(pub?.version).toBe(0);
        for (const o of store.objects()) {
          if (o.kind === ObjectKind.keyPage) {
            for (const k of (o as KeyPage).slots) {
              // No key to the secret was made, and no read-write key to the public page.
              expect(k.target === secretId && k.kind !== KeyKind.number).toBe(false);
              expect(k.target === publicId && k.kind === KeyKind.page).toBe(false);
            }
          }
          if (o.kind === ObjectKind.meter) expect(o.keeper.target).not.toBe(secretId);
        }
      }),
      { seed: SEED + 4, numRuns: 2000 },
    );
  });
});
