// Control between domains: CALL / CALLW / RETURN and resume keys, HALT of a callee,
// keepers on faults, meter keepers, out-of-gas and resuming, FORK / YIELD and time
// slices.
import {
  DomainSlot,
  Fault,
  type Key,
  KeyKind,
  type KeyPage,
  LIMITS,
  NULL_KEY,
  numberKey,
  UNLIMITED,
} from '@keyvm/core';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { Machine } from './machine.js';
import { op } from './test-support.js';
import {
  addDomain,
  boot,
  type ChildOptions,
  hostDataPage,
  pageWords,
  rootPage,
  runHalted,
  SEED,
  type Snapshot,
  snapshot,
} from './testing.test-helpers.js';

const { RECV, RESUME, SELF, STACK, KEEPER, POINTER } = DomainSlot;

/** RETURN through `resume` handing back the key in `key` and the word on top of the stack. */
const returnTop = (resume: number = RESUME, key = 0) => [
  'PUSH',
  resume,
  'SWAP',
  'PUSH',
  key,
  'SWAP',
  'RETURN',
];

const view = (m: Machine, page: KeyPage) => m.domain(page.id);

describe('CALL / RETURN and resume keys', () => {
  it('CALL hands the callee the message key and a resume key; RETURN hands back a key', () => {
    const m = boot([
      ...op('CALL', 15, DomainSlot.DATA),
      ...op('KEYTYPE', RECV),
      ...op('PAGEREAD', RECV, 0),
      ...op('PAGEREAD', DomainSlot.DATA, 0),
    ]);
    const child = addDomain(m, [
      ...op('KEYTYPE', RECV),
      ...op('KEYTYPE', RESUME),
      ...op('PAGEWRITE', 11, RECV, 0),
      ...op('CREATEPAGE', 12, 0, DomainSlot.MEMORY, 1),
      ...op('PAGEWRITE', 22, 12, 0),
      ...op('RETURN', RESUME, 12, 0),
    ]);
    child.slots[DomainSlot.MEMORY] = rootPage(m).slots[DomainSlot.MEMORY]!;
    rootPage(m).slots[15] = m.store.domainKey(child);
    expect(runHalted(m)).toEqual([2, 22, 11]);
    expect(m.stack(child.id)).toEqual([2, 5]);
    expect(view(m, child).stateName).toBe('available');
    // The resume key was used: every copy of it is void now.
    expect(view(m, child).slots[RESUME]!.kind).toBe(KeyKind.null);
  });

  it('a resume key is one-shot: a second RETURN through a copy faults null-key', () => {
    const m = boot([...op('CALL', 15, 0), ...op('CALL', 15, 0), 'PUSH', 99]);
    const child = addDomain(
      m,
      [
        ...op('COPYKEY', SELF, 12, SELF, RESUME),
        ...op('RETURN', RESUME, 0, 0),
        // The second call continues here, with a fresh resume key in RESUME.
        ...op('RETURN', 12, 0, 0),
      ],
      { slot: 15 },
    );
    const r = m.run();
    expect(r.status).toBe('fault');
    expect(r.fault).toMatchObject({ code: 'null-key', domain: child.id, pc: 22 });
    expect(view(m, child).slots[12]!.kind).toBe(KeyKind.null);
    expect(view(m, child).slots[RESUME]!.kind).toBe(KeyKind.resume);
    expect(m.domain(m.rootDomain).stateName).toBe('waiting');
    expect(m.stack()).toEqual([]);
  });

  it('using one copy voids the others, whichever is used', () => {
    const m = boot([...op('CALL', 15, 0), 'PUSH', 1]);
    const child = addDomain(
      m,
      [...op('COPYKEY', SELF, 12, SELF, RESUME), ...op('RETURN', 12, 0, 0), ...op('RETURN', RESUME, 0, 0)],
      { slot: 15 },
    );
    m.run();
    expect(m.stack()).toEqual([1]);
    // The child ran its RETURN through the copy; the original in RESUME is void too.
    expect(view(m, child).slots[RESUME]!.kind).toBe(KeyKind.null);
  });

  it('reply delegation: the resume key passed to a third domain, which returns', () => {
    const m = boot([...op('CALLW', 15, 0, 5), 'PUSH', 1]);
    const third = addDomain(m, [
      // RECV holds the root's resume key; the word 5 is not passed on (plain CALL).
      ...op('KEYTYPE', RECV),
      ...op('RETURN', RECV, 0, 77),
    ]);
    const middle = addDomain(m, [...op('CALL', 12, RESUME)], { slots: { 12: m.store.domainKey(third) } });
    rootPage(m).slots[15] = m.store.domainKey(middle);
    expect(runHalted(m)).toEqual([77, 1]);
    expect(m.stack(third.id)).toEqual([5]);
    expect(m.stack(middle.id)).toEqual([5]);
    expect(view(m, middle).stateName).toBe('waiting'); // nobody returned to it
    expect(view(m, third).stateName).toBe('available');
  });

  it('CALLW passes words both ways through nested calls', () => {
    // root: CALLW a 10 -> a: CALLW b (w*2) -> b: returns w+1 -> a: returns reply*3
    const m = boot(op('CALLW', 15, 0, 10));
    const b = addDomain(m, ['PUSH', 1, 'ADD', ...returnTop()]);
    const a = addDomain(
      m,
      ['PUSH', 2, 'MUL', 'PUSH', 12, 'SWAP', 'PUSH', 0, 'SWAP', 'CALLW', 'PUSH', 3, 'MUL', ...returnTop()],
      {
        slots: { 12: m.store.domainKey(b) },
      },
    );
    rootPage(m).slots[15] = m.store.domainKey(a);
    expect(runHalted(m)).toEqual([63]);
    expect(m.stack(a.id)).toEqual([]);
    expect(m.stack(b.id)).toEqual([]);
  });

  it('RETURN to a plain CALL pushes no word', () => {
    const m = boot([...op('CALL', 15, 0), 'PUSH', 1]);
    addDomain(m, op('RETURN', RESUME, 0, 99), { slot: 15 });
    expect(runHalted(m)).toEqual([1]);
  });

  it('a callee that HALTs returns to its caller with the null key and word 0', () => {
    const m = boot([...op('CALLW', 15, DomainSlot.DATA, 9), ...op('KEYTYPE', RECV)]);
    const child = addDomain(m, ['PUSH', 4, 'HALT', 'PUSH', 5], { slot: 15 });
    expect(runHalted(m)).toEqual([0, 0]);
    expect(view(m, child)).toMatchObject({ stateName: 'halted', ip: 3 });
    expect(m.stack(child.id)).toEqual([9, 4]);
  });

  it('a callee that runs off its code returns to its caller too', () => {
    const m = boot([...op('CALL', 15, 0), 'PUSH', 3]);
    addDomain(m, ['PUSH', 4], { slot: 15 });
    expect(runHalted(m)).toEqual([3]);
  });

  it('a halted domain cannot be called again (busy)', () => {
    const m = boot([...op('CALL', 15, 0), ...op('CALL', 15, 0)]);
    addDomain(m, ['HALT'], { slot: 15 });
    expect(m.run().fault?.code).toBe('busy');
  });

  it('a returned domain can be called again and continues after its RETURN', () => {
    const m = boot([...op('CALLW', 15, 0, 1), ...op('CALLW', 15, 0, 2), ...op('CALLW', 15, 0, 3)]);
    // Counts its calls: each call pushes a word; reply with the stack depth.
    const child = addDomain(m, ['loop:', 'DROP', ...op('RETURN', RESUME, 0, 7), ':loop', 'JUMP'], {
      slot: 15,
    });
    expect(runHalted(m)).toEqual([7, 7, 7]);
    expect(view(m, child).stateName).toBe('available');
  });
});

// A caller counting down through CALLW to a server that doubles the word it gets
// and RETURNs it; the server may run on its own child meter (the loop then goes
// through the scheduler to settle and borrow again).
const pingPong = (jit: boolean | 'eager', ownMeter: boolean, time = UNLIMITED, fastTransfers = true) => {
  const m = boot(
    // biome-ignore format: the program reads as one line per instruction group
    [
      'PUSH', 6,
      'loop:', 'DUP', 'PUSH', 15, 'SWAP', 'PUSH', 0, 'SWAP', 'CALLW', // CALLW 15, null, n
      'DROP', 'PUSH', 1, 'SUB', 'DUP', ':loop', 'SWAP', 'JUMPIF',
      'HALT',
    ],
    { jit, time, quantum: 1000, fastTransfers },
  );
  const meter = ownMeter ? m.store.createMeter(rootPage(m).slots[DomainSlot.TIME]!, 10_000) : undefined;
  const server = addDomain(
    m,
    ['serve:', 'PUSH', 2, 'MUL', ...returnTop(), ':serve', 'JUMP'],
    meter === undefined ? { slot: 15 } : { slot: 15, time: meter },
  );
  return { m, server };
};

describe('the dispatch loop follows CALL and RETURN without leaving', () => {
  const modes = [false, true, 'eager'] as const;

  it('ends where the interpreter does, in every JIT mode, on one meter or two', () => {
    for (const ownMeter of [false, true]) {
      const ends = modes.map((jit) => {
        const { m } = pingPong(jit, ownMeter);
        return { r: m.run(), state: snapshot(m) };
      });
      expect(ends[0]!.r.status).toBe('halted');
      expect(ends[0]!.state.objects.length).toBeGreaterThan(0);
      expect(ends[1]).toEqual(ends[0]);
      expect(ends[2]).toEqual(ends[0]);
    }
    const { m, server } = pingPong(true, false);
    expect(runHalted(m)).toEqual([0]);
    expect(m.domain(server.id).stateName).toBe('available');
  });

  it('any split into step-limited runs ends in the same machine', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...modes),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }),
        (jit, ownMeter, chunks) => {
          const whole = pingPong(jit, ownMeter).m;
          const all = whole.run();
          expect(all.status).toBe('halted');
          const { m } = pingPong(jit, ownMeter);
          let steps = 0;
          let gas = 0;
          for (let i = 0; ; i++) {
            const r = m.run({ maxSteps: chunks[i % chunks.length]! });
            steps += r.steps;
            gas += r.gasUsed;
            if (r.status !== 'paused') break;
          }
          expect({ steps, gas }).toEqual({ steps: all.steps, gas: all.gasUsed });
          expect(snapshot(m)).toEqual(snapshot(whole));
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('running out of gas at any instruction and resuming ends in the same machine', () => {
    const all = pingPong(true, false);
    const total = all.m.run().gasUsed;
    for (const jit of modes) {
      for (let g = 0; g <= total; g++) {
        const { m } = pingPong(jit, false, g);
        const first = m.run();
        // It stops before the first instruction it cannot pay for (CALLW and RETURN cost the most).
        expect(first.gasUsed).toBeLessThanOrEqual(g);
        expect(g - first.gasUsed).toBeLessThan(INSTRUCTIONS[Op.CALLW].gas);
        if (g < total) {
          expect(first.status).toBe('out-of-gas');
          expect(m.run({ gas: total - first.gasUsed }).status).toBe('halted');
        }
        expect(m.store.primeTime.remaining).toBe(0);
        const ref = pingPong(jit, false, total);
        ref.m.run();
        expect(snapshot(m)).toEqual(snapshot(ref.m));
      }
    }
  });

  it('entering again sees a severed code page, a destroyed stack page and a replaced CODE key', () => {
    const afterFirstReturn = (jit: boolean | 'eager') => {
      const { m, server } = pingPong(jit, false);
      // Run until the server has answered once and the caller runs again.
      const done = () =>
        m.domain(server.id).ip !== 0 &&
        m.domain(server.id).stateName === 'available' &&
        m.store.kernel.active === m.rootDomain;
      while (!done()) expect(m.step().status).toBe('paused');
      return { m, server };
    };
    for (const jit of modes) {
      let { m, server } = afterFirstReturn(jit);
      m.store.sever(server.slots[DomainSlot.CODE]!);
      expect(m.run().fault).toMatchObject({ code: 'null-key', domain: server.id });

      ({ m, server } = afterFirstReturn(jit));
      m.store.destroyPage(server.slots[DomainSlot.STACK]!);
      // CALLW cannot push its word onto the server's stack: the caller's CALLW faults.
      expect(m.run().fault).toMatchObject({ code: 'null-key', domain: m.rootDomain });

      ({ m, server } = afterFirstReturn(jit));
      // New code for the server, which goes on at its IP (10, after its RETURN): it
      // answers 7 whatever it is sent, so its RETURN now sits at 19.
      const other = addDomain(m, [
        ...Array<string>(10).fill('NOP'),
        'again:',
        'DROP',
        'PUSH',
        7,
        ...returnTop(),
        ':again',
        'JUMP',
      ]);
      expect(m.domain(server.id).ip).toBe(10);
      server.slots[DomainSlot.CODE] = other.slots[DomainSlot.CODE]!;
      expect(m.run().status).toBe('halted');
      expect(m.domain(server.id).ip).toBe(20);
      expect(m.stack()).toEqual([0]);
    }
  });

  it('a callee that cannot be entered faults the same way as before it ran', () => {
    for (const jit of modes) {
      const { m, server } = pingPong(jit, false);
      server.slots[DomainSlot.CODE] = m.store.domainKey(server); // not a page key
      const r = m.run();
      expect(r.status).toBe('fault');
      expect(r.fault).toMatchObject({ code: 'wrong-kind', domain: server.id, pc: 0 });
    }
  });
});

describe('the resolved-pages cache', () => {
  // Each entered domain keeps what its CODE and STACK keys resolve to in its page's
  // run cache, however many domains there are; a change of epoch makes them stale
  // (each is resolved again when its domain is next entered).
  const callEach = (slots: number[], after: (string | number)[] = []) => {
    const m = boot([...slots.flatMap((s) => op('CALL', s, 20)), ...after, 'HALT']);
    const children = slots.map((slot) => addDomain(m, op('RETURN', DomainSlot.RESUME, 0, 0), { slot }));
    expect(m.run().status).toBe('halted');
    return { m, root: rootPage(m), children };
  };
  const caching = (pages: KeyPage[]) => pages.map((p) => p.runCache !== undefined);
  const epochOf = (p: KeyPage) => (p.runCache as { epoch: number }).epoch;

  it('is kept by every domain that was entered, however many', () => {
    const slots = Array.from({ length: 12 }, (_, i) => 12 + i);
    const { root, children } = callEach(slots);
    expect(caching([root, ...children])).toEqual(Array(13).fill(true));
  });

  it('goes stale for every domain when the epoch changes (a page severed), and is made again on entry', () => {
    const { m, root, children } = callEach([12, 13], op('SEVER', DomainSlot.DATA));
    const epoch = m.store.epoch;
    // The root reloaded its pages after the SEVER; the children still hold the old epoch.
    expect(epochOf(root)).toBe(epoch);
    expect(children.map(epochOf).every((e) => e < epoch)).toBe(true);
  });

  it('keeps no destroyed page’s words alive', () => {
    const m = boot([...op('CALL', 12, 20), 'HALT']);
    const child = addDomain(m, op('RETURN', DomainSlot.RESUME, 0, 0), { slot: 12, stackSize: 4096 });
    expect(m.run().status).toBe('halted');
    const held = (child.runCache as { stack: { size: number } }).stack;
    expect(held.size).toBe(4096);
    m.store.destroyPage(child.slots[DomainSlot.STACK]!);
    // The child's cache still names the page (it is stale) but not its 4,096 words.
    expect((child.runCache as { stack: unknown }).stack).toBe(held);
    expect(held.size).toBe(0);
  });
});

describe('a chain of many domains', () => {
  // The root CALLWs domain 1 with a counter, domain i CALLWs domain i+1 with the
  // word plus one, the last returns it doubled and each returns what it got back:
  // every round trip goes down and up the whole chain. Every `own`-th domain runs
  // on a child meter of its own (a transfer to it settles and borrows again).
  const chain = (
    n: number,
    jit: boolean | 'eager',
    fastTransfers: boolean,
    own = 0,
    borrowLimit = 2 ** 30,
  ) => {
    const m = boot(
      // biome-ignore format: the program reads as one line per instruction group
      [
        'PUSH', 0, 'PUSH', 3, // sum, n
        'loop:', 'DUP', 'PUSH', 12, 'SWAP', 'PUSH', 0, 'SWAP', 'CALLW', // CALLW 12, null, n
        'PICK', 2, 'ADD', 'PUT', 1, // sum += the word back
        'PUSH', 1, 'SUB', 'DUP', ':loop', 'SWAP', 'JUMPIF',
        'HALT',
      ],
      { jit, fastTransfers, quantum: 1 << 20, borrowLimit },
    );
    const time = rootPage(m).slots[DomainSlot.TIME]!;
    const pages: KeyPage[] = [];
    let next: Key | undefined;
    for (let i = n; i >= 1; i--) {
      const body =
        next === undefined
          ? ['PUSH', 2, 'MUL']
          : ['PUSH', 1, 'ADD', 'PUSH', 15, 'SWAP', 'PUSH', 0, 'SWAP', 'CALLW'];
      const options: ChildOptions = next === undefined ? {} : { slots: { 15: next } };
      if (own > 0 && i % own === 0) options.time = m.store.createMeter(time, 1e12);
      if (i === 1) options.slot = 12;
      const page = addDomain(m, ['serve:', ...body, ...returnTop(), ':serve', 'JUMP'], options);
      pages.unshift(page);
      next = m.store.domainKey(page);
    }
    return { m, pages };
  };

  it.each([26, 1000])(
    'of %i ends alike with one-step transfers on and off, the JIT off, on and eager',
    (n) => {
      for (const own of [0, 7]) {
        const ends = (['eager', true, false] as const).flatMap((jit) =>
          [true, false].map((fast) => {
            const { m, pages } = chain(n, jit, fast, own);
            const r = m.run();
            // The one-step CALL renews the resume key it left in the callee in place: each
            // domain holds the one its cache remembers when that path served it.
            const oneStep = pages.filter((p) => {
              const e = p.runCache as { resume: Key | null } | undefined;
              return e !== undefined && e.resume !== null && e.resume === p.slots[RESUME];
            }).length;
            return { r, state: snapshot(m), stack: m.stack(), oneStep, fast };
          }),
        );
        expect(ends[0]!.r.status).toBe('halted');
        // 3 round trips down and up the chain (2n transfers each); n = 3, 2, 1 comes back as 2(n + chain - 1).
        expect(ends[0]!.stack).toEqual([2 * (3 + 2 + 1 + 3 * (n - 1)), 0]);
        for (const e of ends) {
          expect({ r: e.r, state: e.state }).toEqual({ r: ends[0]!.r, state: ends[0]!.state });
          expect(e.oneStep).toBe(e.fast ? n : 0);
        }
      }
    },
  );

  it('leaves no registers or compiled code held in run caches once a run ends', () => {
    // Between runs compiled code is reachable only through its page and the CPU (so what
    // the JIT's cache drops is freed), and every register is in its slots.
    const { m, pages } = chain(26, 'eager', true);
    for (const maxSteps of [37, 500, 1 << 20]) {
      const r = m.run({ maxSteps });
      for (const p of pages) {
        const e = p.runCache as
          | { ip: number; state: number; compiled: unknown; compiledAt: number }
          | undefined;
        if (e === undefined && r.status === 'paused') continue; // not entered yet
        expect({ ip: e!.ip, state: e!.state, compiled: e!.compiled, compiledAt: e!.compiledAt }).toEqual({
          ip: -1,
          state: -1,
          compiled: null,
          compiledAt: -1,
        });
      }
    }
    expect(m.run().status).toBe('halted');
  });

  it('paused at any step, reads as on the general path (the registers a conversation held in caches included)', () => {
    // The one-step path writes the IP and POINTER slots of the domains a conversation
    // left only when the conversation ends (`CpuTransfers.#leave`): after every pause
    // the whole machine must be what the general path leaves, step for step.
    fc.assert(
      fc.property(
        fc.constantFrom(false, true, 'eager' as const),
        fc.constantFrom(0, 3),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (jit, own, chunks) => {
          const fast = chain(6, jit, true, own).m;
          const slow = chain(6, jit, false, own).m;
          for (let i = 0; ; i++) {
            const c = chunks[i % chunks.length]!;
            const r = fast.run({ maxSteps: c });
            expect(r).toEqual(slow.run({ maxSteps: c }));
            expect(snapshot(fast)).toEqual(snapshot(slow));
            if (r.status !== 'paused') break;
          }
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('any split into step- or gas-limited runs, on any borrow limit, ends in the same machine', () => {
    const whole = chain(26, true, true, 7).m;
    const all = whole.run();
    // Each transfer costs the table's gas and is one step.
    const transfers = 3 * 2 * 26;
    expect(all.gasUsed - all.steps).toBe(transfers * (INSTRUCTIONS[Op.CALL].gas - 1));
    // The prime time meter aside (each way was given its gas differently).
    const rest = (m: Machine) => {
      const s = snapshot(m);
      return { ...s, objects: s.objects.filter((o) => o !== s.objects[0]) };
    };
    fc.assert(
      fc.property(
        fc.constantFrom(false, true, 'eager' as const),
        fc.boolean(),
        fc.constantFrom(1, 3, 2 ** 30),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (jit, fast, borrowLimit, chunks, byGas) => {
          const { m } = chain(26, jit, fast, 7, borrowLimit);
          let steps = 0;
          let gas = 0;
          for (let i = 0; ; i++) {
            const c = chunks[i % chunks.length]!;
            // (A gas budget below a transfer's cost would never get past one.)
            const r = byGas ? m.run({ gas: c + INSTRUCTIONS[Op.CALL].gas - 1 }) : m.run({ maxSteps: c });
            steps += r.steps;
            gas += r.gasUsed;
            if (r.status === 'halted') break;
            expect(r.status).toBe(byGas ? 'out-of-gas' : 'paused');
          }
          expect({ steps, gas }).toEqual({ steps: all.steps, gas: all.gasUsed });
          expect(rest(m)).toEqual(rest(whole));
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
  });
});

describe('the one-step path for common transfers changes nothing', () => {
  // Each case runs with the fast path on and off: the same result, the same machine.
  // Most transfers below take the fast path after the first (which fills the page
  // cache); each case has one that it must leave to the general path.
  const bothWays = (build: (fastTransfers: boolean) => Machine, pauses: (m: Machine) => void = () => {}) => {
    const ends = [true, false].map((fast) => {
      const m = build(fast);
      pauses(m);
      return { r: m.run(), state: snapshot(m), stack: m.stack() };
    });
    expect(ends[0]).toEqual(ends[1]);
    return ends[0]!;
  };
  const callTwice = (items: (string | number)[]) => [...items, ...items];

  it('CALLW and RETURN with a word, on one meter or two', () => {
    for (const ownMeter of [false, true]) {
      const end = bothWays((fast) => pingPong(true, ownMeter, UNLIMITED, fast).m);
      expect(end.r.status).toBe('halted');
      expect(end.stack).toEqual([0]);
    }
  });

  it('a resume generation at its limit starts again from 0, either way', () => {
    const ends = [true, false].map((fast) => {
      const { m, server } = pingPong(true, false, UNLIMITED, fast);
      const root = rootPage(m);
      root.resumeGen = LIMITS.maxCount - 2;
      // A copy of a resume key to the root with a generation used up before the wrap.
      server.slots[16] = m.store.resumeKey(root);
      const r = m.run();
      expect(r.status).toBe('halted');
      expect(m.stack()).toEqual([0]);
      // Six calls: the generation went past the limit to 0 and on; the old copy was nulled.
      expect(root.resumeGen).toBe(3);
      expect(server.slots[16]).toEqual(NULL_KEY);
      return { r, state: snapshot(m) };
    });
    expect(ends[0]).toEqual(ends[1]);
  });

  it('a caller and a callee that share one stack page', () => {
    const end = bothWays((fast) => {
      const m = boot(callTwice(op('CALLW', 15, 0, 5)), { fastTransfers: fast });
      addDomain(m, ['serve:', 'PUSH', 1, 'ADD', ...returnTop(), ':serve', 'JUMP'], {
        slot: 15,
        slots: { [STACK]: rootPage(m).slots[STACK]! },
      });
      return m;
    });
    // Each push onto the other domain's stack lands where the pusher's operands were;
    // they left the stack (zeroed) before the push, as in KeyVM, so the word stays.
    // The second CALLW's word lands on the caller's first reply (the callee's stack
    // pointer is 0 again), so the caller ends with that 0 and the reply 6.
    expect(end.r.status).toBe('halted');
    expect(end.stack).toEqual([0, 6]);
  });

  it('operands naming the IP or POINTER slot (they read the registers)', () => {
    // The message is the number key of the caller's stack pointer...
    const sent = bothWays((fast) => {
      const m = boot(callTwice(op('CALLW', 15, POINTER, 0)), { fastTransfers: fast });
      addDomain(m, ['serve:', 'DROP', ...op('KEYTYPE', RECV), ...returnTop(), ':serve', 'JUMP'], {
        slot: 15,
      });
      return m;
    });
    expect(sent.stack).toEqual([KeyKind.number, KeyKind.number]);
    // ...and a callee named by the IP slot is no domain.
    const r = bothWays((fast) => {
      const m = boot([...op('CALL', 15, 0), ...op('CALL', DomainSlot.IP, 0)], { fastTransfers: fast });
      addDomain(m, ['serve:', ...op('RETURN', RESUME, 0, 0), ':serve', 'JUMP'], { slot: 15 });
      return m;
    }).r;
    expect(r.fault).toMatchObject({ code: 'wrong-kind', pc: 9 });
  });

  it('a void message key arrives as the null key', () => {
    const end = bothWays((fast) => {
      const m = boot(callTwice(op('CALLW', 15, DomainSlot.DATA, 0)), { fastTransfers: fast }, [1]);
      m.store.sever(rootPage(m).slots[DomainSlot.DATA]!);
      addDomain(m, ['serve:', 'DROP', ...op('KEYTYPE', RECV), ...returnTop(), ':serve', 'JUMP'], {
        slot: 15,
      });
      return m;
    });
    expect(end.stack).toEqual([KeyKind.null, KeyKind.null]);
  });

  it('a busy callee, a used resume key and a full stack fault as before', () => {
    // The server calls back its waiting caller: busy.
    const busy = bothWays((fast) => {
      const m = boot(callTwice(op('CALL', 15, 0)), { fastTransfers: fast });
      const server = addDomain(m, ['PUSH', 11, 'PUSH', 0, 'PUSH', 0, 'RETURN', ...op('CALL', 12, 0)], {
        slot: 15,
      });
      server.slots[12] = m.store.domainKey(rootPage(m));
      return m;
    }).r;
    expect(busy.fault).toMatchObject({ code: 'busy' });
    // The server keeps a copy of its first resume key and returns through it later.
    const used = bothWays((fast) => {
      const m = boot(callTwice(op('CALL', 15, 0)), { fastTransfers: fast });
      addDomain(
        m,
        [...op('COPYKEY', SELF, 12, SELF, RESUME), ...op('RETURN', RESUME, 0, 0), ...op('RETURN', 12, 0, 0)],
        { slot: 15 },
      );
      return m;
    }).r;
    expect(used.fault).toMatchObject({ code: 'null-key' });
    // The host fills the server's stack between two calls: CALLW cannot push its word.
    const full = bothWays(
      (fast) => {
        const m = boot(callTwice(op('CALLW', 15, 0, 3)), { fastTransfers: fast });
        addDomain(m, ['serve:', ...returnTop(), ':serve', 'JUMP'], { slot: 15, stackSize: 8 });
        return m;
      },
      (m) => {
        // Up to the caller's second CALLW (after the first round trip), then a full stack.
        expect(m.run({ maxSteps: 12 }).status).toBe('paused');
        const server = m.store.object(m.domains().find((d) => d.id !== m.rootDomain)!.id) as KeyPage;
        server.slots[POINTER] = numberKey(8);
      },
    ).r;
    expect(full.fault).toMatchObject({ code: 'stack-overflow', pc: 13 });
    // The host gives the server a memory meter as its time meter: it cannot be entered.
    const memory = bothWays(
      (fast) => pingPong(true, true, UNLIMITED, fast).m,
      (m) => {
        expect(m.run({ maxSteps: 40 }).status).toBe('paused');
        const server = m.store.object(m.domains().find((d) => d.id !== m.rootDomain)!.id) as KeyPage;
        server.slots[DomainSlot.TIME] = rootPage(m).slots[DomainSlot.MEMORY]!;
      },
    ).r;
    expect(memory.fault).toMatchObject({ code: 'wrong-kind' });
  });
});

describe('resume keys the one-step CALL renews in place', () => {
  // Between two points where something else may run (a heavy instruction, a
  // general-path transfer, the host between runs, a resume key sent as a message),
  // the key the one-step CALL left in the callee's RESUME slot has no other copy,
  // and the next one-step CALL into that callee renews it instead of making one.
  // Each case below gives the key a copy in one of those ways and checks that the
  // copy stays used up (renewing it regardless would revive it), with the one-step
  // path on and off ending in the same machine.
  const serverLoop = ['serve:', ...op('RETURN', RESUME, 0, 0), ':serve', 'JUMP'];
  /** The root calls slot 15 four times, then pushes 99. */
  const callFour = () => [
    ...op('CALL', 15, 0),
    ...op('CALL', 15, 0),
    ...op('CALL', 15, 0),
    ...op('CALL', 15, 0),
    'PUSH',
    99,
  ];
  const bothWays = (
    build: (fast: boolean) => { m: Machine; holder: KeyPage },
    pauses?: (m: Machine) => void,
  ) => {
    const out = [true, false].map((fast) => {
      const { m, holder } = build(fast);
      pauses?.(m);
      const r = m.run();
      return { r, state: snapshot(m), m, holder };
    });
    expect(out[0]!.r).toEqual(out[1]!.r);
    expect(out[0]!.state).toEqual(out[1]!.state);
    return out[0]!;
  };
  /** The key in `slot` of `page` is a resume key that is used up. */
  const expectUsedUp = (m: Machine, page: KeyPage, slot: number) => {
    expect(page.slots[slot]!.kind).toBe(KeyKind.resume);
    expect(m.store.normalize(page.slots[slot]!)).toBe(NULL_KEY);
  };

  it('makes a resume key only when it must: renewed in place for a conversation', () => {
    const calls = 20;
    const counts = [true, false].map((fast) => {
      // biome-ignore format: one instruction group per line
      const m = boot([
        'PUSH', calls,
        'loop:', ...op('CALL', 15, 0), 'PUSH', 1, 'SUB', 'DUP', ':loop', 'SWAP', 'JUMPIF',
      ], { fastTransfers: fast, quantum: 1 << 20 });
      addDomain(m, serverLoop, { slot: 15 });
      const made = vi.spyOn(m.store, 'resumeKey');
      const renewed = vi.spyOn(m.store, 'renewResumeKey');
      expect(m.run().status).toBe('halted');
      return { made: made.mock.calls.length, renewed: renewed.mock.results.filter((x) => x.value).length };
    });
    // The first CALL takes the general path (the callee's pages are not cached yet);
    // the second makes the key that the rest renew.
    expect(counts[0]).toEqual({ made: 2, renewed: calls - 2 });
    expect(counts[1]).toEqual({ made: calls, renewed: 0 });
  });

  it('not after a heavy instruction copied it: that copy stays used up', () => {
    const end = bothWays((fast) => {
      const m = boot([...op('CALL', 15, 0), ...op('CALL', 15, 0), ...op('CALL', 15, 0), 'PUSH', 99], {
        fastTransfers: fast,
      });
      const holder = addDomain(
        m,
        [
          ...op('RETURN', RESUME, 0, 0), // first call: the general path, which caches the pages
          ...op('COPYKEY', SELF, 12, SELF, RESUME), // second: a one-step CALL made this key
          ...op('RETURN', RESUME, 0, 0),
          ...op('RETURN', 12, 0, 0), // third: through the copy of the used key
        ],
        { slot: 15 },
      );
      return { m, holder };
    });
    expect(end.r.fault).toMatchObject({ code: 'null-key', domain: end.holder.id });
    expectUsedUp(end.m, end.holder, 12);
  });

  it('not after a one-step CALL sent it as its message: the receiver’s copy stays used up', () => {
    const end = bothWays((fast) => {
      const m = boot(callFour(), { fastTransfers: fast });
      const holder = addDomain(m, serverLoop);
      addDomain(
        m,
        [
          ...op('RETURN', RESUME, 0, 0),
          ...op('CALL', 12, 0), // second call: the helper's pages get cached
          ...op('RETURN', RESUME, 0, 0),
          ...op('CALL', 12, RESUME), // third: a one-step CALL sends the resume key
          ...op('RETURN', RESUME, 0, 0),
          ...op('RETURN', RESUME, 0, 0), // fourth
        ],
        { slot: 15, slots: { 12: m.store.domainKey(holder) } },
      );
      return { m, holder };
    });
    expect(end.r.status).toBe('halted');
    expect(end.m.stack()).toEqual([99]);
    expectUsedUp(end.m, end.holder, RECV);
  });

  it('not after the host copied it between runs', () => {
    const end = bothWays(
      (fast) => {
        const m = boot(callFour(), { fastTransfers: fast });
        addDomain(m, serverLoop, { slot: 15 });
        return { m, holder: rootPage(m) };
      },
      (m) => {
        // In the server after the second call (a one-step one): the host copies its resume key.
        expect(m.run({ maxSteps: 14 }).status).toBe('paused');
        const server = m.domains().find((d) => d.id !== m.rootDomain)!;
        expect(server.stateName).toBe('running');
        rootPage(m).slots[20] = (m.store.object(server.id) as KeyPage).slots[RESUME]!;
      },
    );
    expect(end.r.status).toBe('halted');
    expectUsedUp(end.m, end.holder, 20);
  });

  it('a gate severed after a one-step CALL through it is void at the next', () => {
    // The CPU remembers the domain the last gate key designated, with the store's
    // epoch. Here the callee severs its own page and is cached again at once (the
    // running domain reloads its pages), so only the epoch tells the old gate is void.
    const end = bothWays((fast) => {
      const m = boot([...op('CALL', 15, 0), ...op('CALL', 15, 0), ...op('CALL', 15, 0)], {
        fastTransfers: fast,
      });
      const holder = addDomain(
        m,
        [...op('RETURN', RESUME, 0, 0), ...op('SEVER', SELF), ...op('RETURN', RESUME, 0, 0)],
        { slot: 15 },
      );
      return { m, holder };
    });
    expect(end.r.fault).toMatchObject({ code: 'null-key', domain: end.m.rootDomain, pc: 14 });
  });
});

describe('the domains a CALL and a RETURN reach, remembered by each domain', () => {
  // A domain's run-cache entry remembers the gate key it last CALLed through and the
  // resume key it last RETURNed through, with the domains they designate, for one
  // outside point; a transfer through another key object, or after the point moved,
  // looks the domain up again. Each case ends alike with the one-step path on and off.
  const bothWays = (build: (fast: boolean) => Machine) => {
    const ends = [true, false].map((fast) => {
      const m = build(fast);
      return { r: m.run(), state: snapshot(m), stack: m.stack() };
    });
    expect(ends[0]).toEqual(ends[1]);
    return ends[0]!;
  };
  /** A server that answers every CALLW with `word`. */
  const answers = (word: number) => ['serve:', ...op('RETURN', RESUME, 0, word), ':serve', 'JUMP'];

  it('a gate slot given another gate calls the new domain', () => {
    const end = bothWays((fast) => {
      const m = boot(
        [
          ...op('CALLW', 15, 0, 0),
          ...op('CALLW', 15, 0, 0), // one-step: the root remembers the first server
          ...op('COPYKEY', SELF, 15, SELF, 16),
          ...op('CALLW', 15, 0, 0),
          ...op('CALLW', 15, 0, 0),
          'HALT',
        ],
        { fastTransfers: fast },
      );
      addDomain(m, answers(1), { slot: 15 });
      addDomain(m, answers(2), { slot: 16 });
      return m;
    });
    expect(end.r.status).toBe('halted');
    expect(end.stack).toEqual([1, 1, 2, 2]);
  });

  it('a gate received as the message, another each time, calls the domain it designates', () => {
    // The forwarder CALLs through its RECV slot, which only transfers write: between two
    // outside points the slot holds another gate key object at each call.
    const end = bothWays((fast) => {
      const m = boot(
        [
          ...op('CALLW', 15, 16, 0),
          ...op('CALLW', 15, 16, 0),
          ...op('CALLW', 15, 17, 0),
          ...op('CALLW', 15, 17, 0),
          ...op('CALLW', 15, 16, 0),
          'HALT',
        ],
        { fastTransfers: fast },
      );
      addDomain(m, ['serve:', 'DROP', ...op('CALLW', RECV, 0, 0), ...returnTop(), ':serve', 'JUMP'], {
        slot: 15,
      });
      addDomain(m, answers(1), { slot: 16 });
      addDomain(m, answers(2), { slot: 17 });
      return m;
    });
    expect(end.r.status).toBe('halted');
    expect(end.stack).toEqual([1, 1, 2, 2, 1]);
  });

  it('a server called by two domains in turn returns to each', () => {
    const end = bothWays((fast) => {
      // The root calls the server and a relay in turn; the relay calls the server and
      // hands back its answer plus 10: the server's resume keys alternate between them.
      const turn = [...op('CALLW', 15, 0, 0), ...op('CALLW', 16, 0, 0)];
      const m = boot([...turn, ...turn, ...turn, 'HALT'], { fastTransfers: fast });
      const server = addDomain(m, answers(7), { slot: 15 });
      addDomain(
        m,
        ['serve:', 'DROP', ...op('CALLW', 15, 0, 0), 'PUSH', 10, 'ADD', ...returnTop(), ':serve', 'JUMP'],
        { slot: 16, slots: { 15: m.store.domainKey(server) } },
      );
      return m;
    });
    expect(end.r.status).toBe('halted');
    expect(end.stack).toEqual([7, 17, 7, 17, 7, 17]);
  });

  it('not across a run: a gate the host severed between runs is void at the next CALL', () => {
    // The root's entry, with the server it remembers, outlives the pause; the host ran
    // since (an outside point), so the root looks the gate up again and finds it void.
    const ends = [true, false].map((fast) => {
      const m = boot([...op('CALL', 15, 0), ...op('CALL', 15, 0), ...op('CALL', 15, 0), 'HALT'], {
        fastTransfers: fast,
      });
      const server = addDomain(m, ['serve:', ...op('RETURN', RESUME, 0, 0), ':serve', 'JUMP'], { slot: 15 });
      // Back in the root after the second call (a one-step one when the path is on).
      expect(m.run({ maxSteps: 16 }).status).toBe('paused');
      expect(m.domain(m.rootDomain).stateName).toBe('running');
      m.store.sever(m.store.pageKey(server));
      return { r: m.run(), state: snapshot(m), root: m.rootDomain };
    });
    expect(ends[0]).toEqual(ends[1]);
    // The third CALL (at word 14) faults in the root.
    expect(ends[0]!.r.fault).toMatchObject({ code: 'null-key', domain: ends[0]!.root, pc: 14 });
  });

  it('down a chain, each domain remembers its own neighbours', () => {
    // The root calls domain 1, domain i calls domain i + 1, the last returns, and so back.
    const n = 26;
    const m = boot(
      ['PUSH', 4, 'loop:', ...op('CALL', 15, 0), 'PUSH', 1, 'SUB', 'DUP', ':loop', 'SWAP', 'JUMPIF', 'HALT'],
      {
        quantum: 1 << 20,
      },
    );
    const pages: KeyPage[] = [];
    let next: Key | undefined;
    for (let i = n; i >= 1; i--) {
      const body = next === undefined ? [] : op('CALL', 15, 0);
      const page = addDomain(m, ['serve:', ...body, ...op('RETURN', RESUME, 0, 0), ':serve', 'JUMP'], {
        slots: next === undefined ? {} : { 15: next },
        ...(i === 1 ? { slot: 15 } : {}),
      });
      pages.unshift(page);
      next = m.store.domainKey(page);
    }
    expect(m.run().status).toBe('halted');
    const root = rootPage(m);
    const links = (p: KeyPage) => {
      const e = p.runCache as { callId: number; returnId: number };
      return { call: e.callId, ret: e.returnId };
    };
    expect(links(root)).toEqual({ call: pages[0]!.id, ret: 0 });
    pages.forEach((p, i) => {
      expect(links(p)).toEqual({
        call: i + 1 < n ? pages[i + 1]!.id : 0,
        ret: (i === 0 ? root : pages[i - 1]!).id,
      });
    });
  });
});

describe('round robin over many domains', () => {
  // The root and n domains (built from the host side, runnable and queued) all
  // run `YIELD; JUMP 0`, so each YIELD passes control to the next in the queue.
  const many = (n: number) => {
    const m = boot(['top:', 'YIELD', ':top', 'JUMP'], { quantum: 1 << 20 });
    const root = rootPage(m);
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const page = addDomain(m, ['top:', 'YIELD', ':top', 'JUMP']);
      page.slots[DomainSlot.STATE] = root.slots[DomainSlot.STATE]!; // running
      m.store.kernel.runQueue.push(page.id);
      ids.push(page.id);
    }
    return { m, ids };
  };

  it('passes control in queue order, and the queue reads right whenever anyone can look', () => {
    const { m, ids } = many(3);
    const seen: number[][] = [];
    m.onStep = (s) => {
      if (s.opName === 'YIELD') seen.push([s.domain, ...m.store.kernel.runQueue]);
    };
    // Each starts at its YIELD; later turns run PUSH, JUMP, YIELD: 4 + 6 YIELDs in 22 steps.
    m.run({ maxSteps: 4 + 3 * 6 });
    const all = [m.rootDomain, ...ids];
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => [...all.slice(i % 4), ...all.slice(0, i % 4)]));
  });

  it('one long run and single steps end alike with more domains than are ever dropped at once', () => {
    const gas = 3 * 2600; // each of the 1,300 domains yields twice
    const whole = many(1299);
    expect(whole.m.run({ gas }).status).toBe('out-of-gas');
    const stepped = many(1299);
    stepped.m.store.primeTime.remaining = gas;
    while (stepped.m.step().status === 'paused');
    expect(snapshot(stepped.m)).toEqual(snapshot(whole.m));
    expect(whole.m.store.kernel.runQueue).toHaveLength(1299);
    expect(new Set(whole.m.store.kernel.runQueue).size).toBe(1299);
  });
});

describe('keepers', () => {
  /** Root code with a keeper domain in its KEEPER slot. */
  function withKeeper(rootCode: (string | number)[], keeperCode: (string | number)[]) {
    const m = boot(rootCode);
    const keeper = addDomain(m, keeperCode, { stackSize: 8 });
    rootPage(m).slots[KEEPER] = m.store.domainKey(keeper);
    return { m, keeper };
  }

  it('repairs a divisor and restarts the faulted instruction', () => {
    const { m, keeper } = withKeeper(
      [...op('DIV', 7, 0), 'PUSH', 1],
      [
        // stack: fault number. RECV: the faulted domain's page. RESUME: its restart key.
        ...op('KEYTYPE', RECV),
        ...op('KEYTYPE', RESUME),
        ...op('COPYKEY', SELF, 12, RECV, STACK),
        ...op('PAGEWRITE', 2, 12, 1),
        ...op('RETURN', RESUME, 0, 0),
      ],
    );
    expect(runHalted(m)).toEqual([3, 1]);
    expect(m.stack(keeper.id)).toEqual([Fault['division-by-zero'], KeyKind.page, KeyKind.resume]);
    expect(view(m, keeper).stateName).toBe('available');
  });

  it('repairs a stack (word and POINTER) after an underflow', () => {
    const { m } = withKeeper(
      [...op('ADD', 40), 'PUSH', 1],
      [
        'DROP',
        ...op('COPYKEY', SELF, 12, RECV, STACK),
        ...op('PAGEWRITE', 2, 12, 0),
        ...op('PAGEWRITE', 40, 12, 1),
        ...op('NUMKEY', 13, 2),
        ...op('COPYKEY', RECV, POINTER, SELF, 13),
        ...op('RETURN', RESUME, 0, 0),
      ],
    );
    expect(runHalted(m)).toEqual([42, 1]);
  });

  it('sees the fault in the faulted domain’s STATE and cannot write it', () => {
    const { m, keeper } = withKeeper(op('DIV', 1, 0), [
      'DROP',
      ...op('COPYKEY', SELF, 12, RECV, DomainSlot.STATE),
      ...op('KEYNUM', 12),
      ...op('COPYKEY', RECV, DomainSlot.STATE, SELF, 12),
    ]);
    const r = m.run();
    expect(r.fault).toMatchObject({ code: 'rights-violation', domain: keeper.id });
    // The COPYKEY faulted with its operands still on the stack.
    expect(m.stack(keeper.id)).toEqual([3, RECV, DomainSlot.STATE, SELF, 12]);
    expect(m.domain(m.rootDomain).stateName).toBe('faulted');
  });

  it('a keeper that halts leaves the faulted domain faulted; the machine halts', () => {
    const { m, keeper } = withKeeper(op('DIV', 1, 0), ['HALT']);
    expect(m.run().status).toBe('halted');
    expect(m.domain(m.rootDomain).stateName).toBe('faulted');
    expect(view(m, keeper).stateName).toBe('halted');
  });

  it('a busy keeper is no keeper: the run stops with the fault', () => {
    const { m, keeper } = withKeeper(op('DIV', 1, 0), ['HALT']);
    keeper.slots[DomainSlot.STATE] = { kind: KeyKind.number, target: 0, version: 0, value: 4 };
    const r = m.run();
    expect(r.fault).toMatchObject({ code: 'division-by-zero', domain: m.rootDomain, pc: 4 });
    expect(m.stack(keeper.id)).toEqual([]);
  });

  it('a keeper that faults itself goes to its own keeper, or stops the run', () => {
    const { m, keeper } = withKeeper(op('DIV', 1, 0), ['DROP', 'DROP']);
    const r = m.run();
    expect(r.fault).toMatchObject({ code: 'stack-underflow', domain: keeper.id });
  });

  it('the restart key is one-shot like any resume key', () => {
    const { m, keeper } = withKeeper(
      [...op('DIV', 1, 0), ...op('CALL', 15, 0)],
      [
        ...op('COPYKEY', SELF, 12, SELF, RESUME),
        // Give the faulted domain a stack page holding [1, 1]: the DIV then succeeds.
        ...op('COPYKEY', RECV, STACK, SELF, 13),
        ...op('RETURN', RESUME, 0, 0),
        // Called afterwards by the restarted domain: the copy is void.
        ...op('RETURN', 12, 0, 0),
      ],
    );
    keeper.slots[13] = hostDataPage(m, [1, 1, 0, 0]);
    rootPage(m).slots[15] = m.store.domainKey(keeper);
    const r = m.run();
    expect(m.stack()).toEqual([1]);
    expect(r.fault).toMatchObject({ code: 'null-key', domain: keeper.id });
    expect(m.domain(m.rootDomain).stateName).toBe('waiting');
  });
});

describe('meters and meter keepers', () => {
  // Sum 1..40 into the data page word 0, counting down on the stack.
  const SUM = [
    'PUSH',
    40,
    'loop:',
    'DUP',
    ...op('PAGEREAD', DomainSlot.DATA, 0),
    'ADD',
    'PUSH',
    DomainSlot.DATA,
    'PUSH',
    0,
    'PAGEWRITE',
    'PUSH',
    1,
    'SUB',
    'DUP',
    ':loop',
    'SWAP',
    'JUMPIF',
  ];

  const rootResult = (m: Machine) => ({
    stack: m.stack(),
    data: pageWords(m, rootPage(m).slots[DomainSlot.DATA]!).slice(0, 2),
    view: { ...m.domain(m.rootDomain), slots: undefined },
  });

  // Borrowing in small pieces (a borrow below an instruction's cost, too) changes nothing.
  it.each([{ borrowLimit: 1 << 30 }, { borrowLimit: 1 }, { borrowLimit: 3 }])(
    'a meter keeper refills with METERSET and the domain resumes with nothing lost (%o)',
    (options) => {
      const plain = boot(SUM);
      expect(plain.run().status).toBe('halted');
      expect(rootResult(plain).data[0]).toBe(820);

      const m = boot(SUM, options);
      const keeper = addDomain(
        m,
        [
          'top:',
          // stack: 11 (out-of-gas). RECV: a controlling key to the exhausted meter.
          ...op('KEYTYPE', RECV),
          'DROP',
          ...op('METERSET', RECV, 10),
          ...op('PAGEREAD', 12, 0),
          'PUSH',
          1,
          'ADD',
          'PUSH',
          12,
          'PUSH',
          0,
          'PAGEWRITE',
          ...op('RETURN', RESUME, 0, 0),
          ':top',
          'JUMP',
        ],
        { stackSize: 512 },
      );
      const counter = hostDataPage(m, 1);
      keeper.slots[12] = counter;
      const meter = m.store.createMeter(m.store.meterKey(m.store.primeTime, true), 7);
      m.store.setMeterKeeper(meter, m.store.domainKey(keeper));
      rootPage(m).slots[DomainSlot.TIME] = meter;
      const r = m.run();
      expect(r.status, JSON.stringify(r)).toBe('halted');
      expect(rootResult(m)).toEqual(rootResult(plain));
      const rounds = pageWords(m, counter)[0]!;
      // Every round the keeper saw the out-of-gas code, then refilled.
      expect(m.stack(keeper.id)).toEqual(Array.from({ length: rounds }, () => Fault['out-of-gas']));
      expect(view(m, keeper).stateName).toBe('available');
      // The keeper adds 10 gas a round: as many rounds whatever the borrow.
      expect(rounds).toBe(56);
    },
  );

  it('borrowLimit is a whole number from 1 to 2^30', () => {
    for (const bad of [0, -1, 1.5, 2 ** 30 + 1, Number.NaN])
      expect(() => boot(SUM, { borrowLimit: bad }), String(bad)).toThrow(/borrow limit/);
    expect(boot(SUM, { borrowLimit: 2 ** 30 }).run().status).toBe('halted');
  });

  it('a child meter without a keeper faults the domain with out-of-gas', () => {
    const m = boot(SUM);
    const meter = m.store.createMeter(m.store.meterKey(m.store.primeTime, true), 20);
    rootPage(m).slots[DomainSlot.TIME] = meter;
    const r = m.run();
    expect(r.status).toBe('fault');
    expect(r.fault).toMatchObject({ code: 'out-of-gas', domain: m.rootDomain });
    expect(r.gasUsed).toBe(20);
    expect(m.store.meter(meter, false).remaining).toBe(0);
  });

  it.each([{}, { borrowLimit: 2 }])(
    'the prime meter without a keeper stops with out-of-gas; run({gas}) continues to the same end (%o)',
    (options) => {
      const plain = boot(SUM, {});
      const full = plain.run();
      for (const first of [0, 1, 2, 5, 17, 100]) {
        const m = boot(SUM, { time: first, ...options });
        const r1 = m.run();
        expect(r1).toMatchObject({ status: 'out-of-gas', gasUsed: first });
        expect(m.store.primeTime.remaining).toBe(0);
        const r2 = m.run({ gas: 1_000_000 });
        expect(r2.status).toBe('halted');
        expect(r1.gasUsed + r2.gasUsed).toBe(full.gasUsed);
        expect(r1.steps + r2.steps).toBe(full.steps);
        expect(withoutPrimeTime(snapshot(m))).toEqual(withoutPrimeTime(snapshot(plain)));
      }
    },
  );

  it('exactly enough gas halts (running off the code costs nothing)', () => {
    const plain = boot(SUM);
    const full = plain.run();
    const m = boot(SUM, { time: full.gasUsed });
    expect(m.run()).toEqual(full);
    expect(m.store.primeTime.remaining).toBe(0);
    expect(boot(op('ADD', 1, 2), { time: 3 }).run()).toEqual({ status: 'halted', steps: 3, gasUsed: 3 });
    expect(boot([], { time: 0 }).run().status).toBe('halted');
  });

  it('many small gas budgets reach the same end, never spending more than given', () => {
    const plain = boot(SUM);
    plain.run();
    const m = boot(SUM, { time: 0 });
    let used = 0;
    for (let i = 0; i < 10_000; i++) {
      const gas = (i % 7) + 1;
      const r = m.run({ gas });
      expect(r.gasUsed).toBeLessThanOrEqual(gas);
      used += r.gasUsed;
      if (r.status === 'halted') break;
      expect(r.status).toBe('out-of-gas');
    }
    expect(m.domain(m.rootDomain).stateName).toBe('halted');
    expect(withoutPrimeTime(snapshot(m))).toEqual(withoutPrimeTime(snapshot(plain)));
    expect(used).toBe(m.store.kernel.steps);
  });

  it('an instruction dearer than what is left waits for more gas', () => {
    // FORK costs more than 1; with 1 left the machine stops before it and charges nothing.
    const fork = INSTRUCTIONS[Op.FORK].gas;
    expect(fork).toBeGreaterThan(1);
    const m = boot([...op('FORK', 15, 0)], { time: 3 });
    addDomain(m, ['HALT'], { slot: 15 });
    expect(m.run()).toMatchObject({ status: 'out-of-gas', gasUsed: 2, steps: 2 });
    expect(m.store.primeTime.remaining).toBe(1);
    expect(m.domain(m.rootDomain)).toMatchObject({ ip: 4, sp: 2 });
    expect(m.run({ gas: fork + 1 })).toMatchObject({ status: 'halted', gasUsed: fork + 1, steps: 2 });
  });

  it('a parent meter bounds its children', () => {
    const m = boot(SUM);
    const parent = m.store.createMeter(m.store.meterKey(m.store.primeTime, true), 10);
    const child = m.store.createMeter(parent, UNLIMITED);
    rootPage(m).slots[DomainSlot.TIME] = child;
    const r = m.run();
    expect(r).toMatchObject({ status: 'fault', gasUsed: 10, fault: { code: 'out-of-gas' } });
  });
});

function withoutPrimeTime(s: Snapshot): Snapshot {
  return { ...s, objects: s.objects.map((o) => (o.meter === 1 ? { ...o, remaining: 'x' } : o)) };
}

describe('FORK, YIELD and time slices', () => {
  /** Appends `id` to the shared page in RECV `rounds` times: page[0] counts, page[1..] records. */
  const appender = (id: number, yieldEach: boolean) => [
    'loop:',
    ...op('PAGEREAD', RECV, 0),
    'PUSH',
    1,
    'ADD',
    'DUP',
    'PUSH',
    id,
    'SWAP',
    'PUSH',
    RECV,
    'SWAP',
    'PAGEWRITE', // page[count] = id
    'PUSH',
    RECV,
    'PUSH',
    0,
    'PAGEWRITE', // page[0] = count
    ...(yieldEach ? ['YIELD'] : []),
    'PUSH',
    1,
    'SUB',
    'DUP',
    ':loop',
    'SWAP',
    'JUMPIF',
  ];

  function forkThree(yieldEach: boolean, quantum?: number, rounds = 3) {
    const m = boot(
      [
        ...op('FORK', 15, DomainSlot.DATA),
        ...op('FORK', 16, DomainSlot.DATA),
        ...op('FORK', 17, DomainSlot.DATA),
      ],
      quantum ? { quantum } : {},
    );
    for (const [i, slot] of [15, 16, 17].entries())
      addDomain(m, appender(i + 1, yieldEach), { slot, stack: [rounds] });
    expect(m.run().status).toBe('halted');
    const words = pageWords(m, rootPage(m).slots[DomainSlot.DATA]!);
    return words.slice(1, 1 + words[0]!);
  }

  it('forked domains run in FORK order after the forker; YIELD goes to the back', () => {
    expect(forkThree(true)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it('without YIELD each runs to its end within one quantum', () => {
    expect(forkThree(false)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  it('a time slice of one loop round interleaves round by round', () => {
    // One round is 20 instructions.
    expect(forkThree(false, 20, 4)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it('a slice of two rounds interleaves two by two, deterministically', () => {
    const a = forkThree(false, 40, 4);
    expect(a).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    expect(forkThree(false, 40, 4)).toEqual(a);
  });

  it('an odd slice interleaves deterministically (racing on the shared counter)', () => {
    for (const q of [1, 2, 5, 13, 30]) expect(forkThree(false, q, 5)).toEqual(forkThree(false, q, 5));
    // A slice of 5 preempts every round between its PAGEREAD and PAGEWRITEs.
    expect(forkThree(false, 5, 5).length).toBeLessThan(15);
  });

  it('a domain taken from the queue gets a whole slice, whatever the last one left', () => {
    const nops = (n: number) => Array.from({ length: n }, () => 'NOP');
    const m = boot([...op('FORK', 15, 0), ...nops(5), 'YIELD', ...nops(3)], { quantum: 10 });
    const a = addDomain(m, nops(15), { slot: 15 });
    const who: string[] = [];
    m.onStep = (s) => who.push(s.domain === a.id ? 'a' : 'r');
    expect(m.run().status).toBe('halted');
    const runs = who
      .join('')
      .match(/(.)\1*/g)!
      .map((r) => `${r[0]}${r.length}`);
    // The root yields after 9 instructions; a then runs 10 (not the 1 left of the root's slice).
    expect(runs).toEqual(['r9', 'a10', 'r3', 'a5']);
  });

  it('a domain that broke itself at a slice boundary faults the same stepped or run', () => {
    // DESTROY of its own code page: the next instruction cannot be fetched.
    const prog = op('DESTROY', DomainSlot.CODE);
    const a = boot(prog, { quantum: 1 });
    const ra = a.run();
    expect(ra.fault).toMatchObject({ code: 'null-key', pc: 3 });
    const b = boot(prog, { quantum: 1 });
    expect(b.step().status).toBe('paused');
    expect(b.step().status).toBe('paused');
    expect(b.step().fault).toEqual(ra.fault);
    expect(snapshot(b)).toEqual(snapshot(a));
  });

  it('the forker keeps running until it yields', () => {
    const m = boot([
      ...op('FORK', 15, DomainSlot.DATA),
      ...op('PAGEWRITE', 5, 8, 0),
      'YIELD',
      ...op('PAGEREAD', 8, 0),
    ]);
    addDomain(m, op('PAGEWRITE', 6, RECV, 0), { slot: 15 });
    expect(runHalted(m)).toEqual([6]);
  });

  it('a forked domain gets the null key as RESUME: HALT returns to nobody', () => {
    const m = boot(op('FORK', 15, 0));
    const child = addDomain(m, [...op('KEYTYPE', RESUME), 'HALT'], { slot: 15 });
    expect(m.run().status).toBe('halted');
    expect(m.stack(child.id)).toEqual([0]);
  });
});

describe('the kernel record at its limits', () => {
  it('the total step count saturates at the largest safe integer', () => {
    const m = boot(['NOP', 'NOP', 'NOP']);
    m.store.kernel.steps = Number.MAX_SAFE_INTEGER - 1;
    expect(m.run()).toMatchObject({ status: 'halted', steps: 3 });
    expect(m.store.kernel.steps).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a store whose time slice is 0 is refused', () => {
    const m = boot(['NOP']);
    m.store.kernel.quantum = 0;
    expect(() => new Machine(m.store)).toThrow(/quantum 0 must be a whole number >= 1/);
  });
});
