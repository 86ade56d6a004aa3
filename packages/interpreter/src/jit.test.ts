import { DOMAIN_SLOTS, DomainSlot, type KeyPage, numberKey, PageType } from '@keyvm/core';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileCode,
  compiledFor,
  compiledWordsShared,
  compiledWordsTotal,
  JIT_CACHE_WORDS,
  JIT_MAX_WORDS,
  JIT_WINDOW,
  warmupFor,
} from './jit.js';
import { Machine } from './machine.js';
import type { PageViews } from './page-views.js';
import { code, op } from './test-support.js';
import { SEED, snapshot } from './testing.test-helpers.js';

/** Views for compiled code run outside a machine: `pages` by slot, readable; `writable` slots also writable. */
const viewsOf = (
  pages: Record<number, Int32Array> = {},
  writable: number[] = [],
  /** Number keys NUMKEY writes (into slots 12 to 15 only). */
  numbers: Record<number, number> = {},
): PageViews =>
  ({
    read: (slot: number) => pages[slot] ?? null,
    write: (slot: number) => (writable.includes(slot) ? (pages[slot] ?? null) : null),
    keyType: () => -1,
    numberKey: () => null,
    numKey: (slot: number, word: number) => {
      if (!(slot >= 12 && slot < 16)) return false;
      numbers[slot] = word;
      return true;
    },
    // METERREAD: its own meter in slot 0 (has 10^6 less what is used), another in 1 (777).
    meterCost: () => 25,
    meterRead: (slot: number, used: number) => (slot === 0 ? 1_000_000 - used : slot === 1 ? 777 : -2),
  }) as unknown as PageViews;
const NO_VIEWS = viewsOf();

const run = (
  words: Int32Array,
  jit: boolean | 'eager',
  options: { gas?: number; maxSteps?: number } = {},
) => {
  const m = Machine.boot(
    { code: words, data: [5, 6, 7] },
    { jit, time: options.gas ?? 100_000, stackSize: 16 },
  );
  const r = options.maxSteps === undefined ? m.run() : m.run({ maxSteps: options.maxSteps });
  return { r, state: snapshot(m) };
};

describe('compileCode', () => {
  it('compiles a code page to a function, a large one window by window, up to a limit', () => {
    expect(compileCode(code(...op('ADD', 1, 2)))).toBeTypeOf('function');
    expect(compileCode(new Int32Array(0))).toBeNull();
    expect(compileCode(new Int32Array(JIT_WINDOW * 3 + 1))).toBeTypeOf('function');
    expect(compileCode(new Int32Array(JIT_MAX_WORDS))).toBeTypeOf('function');
    expect(compileCode(new Int32Array(JIT_MAX_WORDS + 1))).toBeNull();
  });

  it('makes code in proportion to the page, even where every word is a likely jump target', () => {
    // PUSH 2, PUSH 4, PUSH 6...: each pushes the next instruction's address, so every
    // instruction starts a fast block; unbounded, each ran to the end of the page.
    const sourceLength = (words: number) => {
      const page = new Int32Array(words);
      for (let pc = 0; pc < words; pc += 2) page.set([Op.PUSH, pc + 2], pc);
      return compileCode(page)!.toString().length;
    };
    const perWord = sourceLength(4096) / 4096;
    expect(perWord).toBeLessThan(200);
    expect(perWord).toBeLessThan((2 * sourceLength(512)) / 512);
  });

  it('runs straight-line code and stops at the first instruction it does not compile', () => {
    const fn = compileCode(code(...op('SUB', 5, 3), 'DUP', 'MUL', 'HALT'))!;
    const stack = new Int32Array(8);
    const regs = Int32Array.from([0, 0, 100, 8]);
    fn(stack, regs, NO_VIEWS);
    expect(Array.from(regs)).toEqual([7, 1, 95, 8]); // stopped at HALT (pc 7), 5 instructions run
    expect(Array.from(stack.subarray(0, 3))).toEqual([4, 0, 0]); // popped words are zero
  });

  it('stops before an instruction whose preconditions fail, leaving it to the interpreter', () => {
    const fn = compileCode(code(...op('DIV', 1, 0)))!;
    const stack = new Int32Array(8);
    const regs = Int32Array.from([0, 0, 100, 8]);
    fn(stack, regs, NO_VIEWS);
    expect(Array.from(regs)).toEqual([4, 2, 98, 8]); // at DIV with both operands pushed
    regs.set([0, 0, 1, 8]);
    stack.fill(0);
    fn(stack, regs, NO_VIEWS);
    expect(Array.from(regs)).toEqual([2, 1, 0, 8]); // fuel for one instruction only
  });

  it('handles negative immediates in every position', () => {
    const fn = compileCode(code(...op('SUB', -2147483648, -1), ...op('NEG', -5), 'HALT'))!;
    const stack = new Int32Array(8);
    const regs = Int32Array.from([0, 0, 100, 8]);
    fn(stack, regs, NO_VIEWS);
    expect(Array.from(stack.subarray(0, 2))).toEqual([-2147483647, 5]);
  });
});

// Programs that exercise the compiler: loops through pushed addresses, jumps into the
// middle of blocks, DIV/MOD by runtime values, heavy instructions between blocks
// (PAGEREAD/PAGEWRITE on the data page and on the running code page itself).
const INLINE = INSTRUCTIONS.filter(
  (r) =>
    (r.family === 'arith' || r.family === 'compare' || r.family === 'stack') &&
    (r.immediates === 0 || r.code === Op.PUSH),
).map((r) => r.code);
const instruction = (length: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -3, max: 12 }).map((n) => [Op.PUSH, n]) },
    { weight: 1, arbitrary: fc.integer().map((n) => [Op.PUSH, n]) },
    { weight: 8, arbitrary: fc.constantFrom(...INLINE).map((c) => (c === Op.PUSH ? [Op.PUSH, 1] : [c])) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(Op.PICK, Op.PUT), fc.integer({ min: -1, max: 5 }))
        .map(([c, k]) => [c, k]),
    },
    { weight: 2, arbitrary: fc.nat(length).map((to) => [Op.PUSH, to, Op.JUMP]) },
    { weight: 3, arbitrary: fc.nat(length).map((to) => [Op.PUSH, to, Op.SWAP, Op.JUMPIF]) },
    { weight: 1, arbitrary: fc.nat(3).map((i) => [Op.PUSH, 8, Op.PUSH, i, Op.PAGEREAD]) },
    { weight: 1, arbitrary: fc.nat(length).map((i) => [Op.PUSH, 5, Op.SWAP, Op.PUSH, i, Op.PAGEWRITE]) },
    { weight: 1, arbitrary: fc.integer({ min: 11, max: 16 }).map((s) => [Op.PUSH, s, Op.SWAP, Op.NUMKEY]) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 }).map((s) => [Op.PUSH, s, Op.METERREAD]) },
  );
const program = fc
  .integer({ min: 4, max: 60 })
  .chain((length) => fc.array(instruction(length), { minLength: 1, maxLength: 30 }))
  .map((is) => Int32Array.from(is.flat()));

describe('code pages compiled window by window', () => {
  it('run exactly as one function for the whole page does (random programs, windows, fuel)', () => {
    fc.assert(
      fc.property(
        program,
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 0, max: 200 }),
        fc.array(fc.integer({ min: -3, max: 12 }), { maxLength: 6 }),
        (words, window, fuel, initial) => {
          const ends = [compileCode(words)!, compileCode(words, window)!].map((fn) => {
            const stack = new Int32Array(16);
            stack.set(initial);
            // regs[5]: gas borrowed and not settled (METERREAD reads through it).
            const regs = Int32Array.from([0, initial.length, fuel, 16, 0, 40]);
            const data = Int32Array.from([5, 6, 7]);
            const numbers: Record<number, number> = {};
            const views = viewsOf({ 8: data, 5: words }, [8], numbers);
            // From the start, then again from wherever it stopped (a heavy instruction
            // skipped over as the interpreter would step past it).
            fn(stack, regs, views);
            const first = Array.from(regs);
            regs[0] = regs[0]! + 1;
            regs[4] = 0;
            fn(stack, regs, views);
            const regsEnd = Array.from(regs);
            return { first, regs: regsEnd, stack: Array.from(stack), data: Array.from(data), numbers };
          });
          expect(ends[1]).toEqual(ends[0]);
        },
      ),
      { seed: SEED + 2, numRuns: 1500 },
    );
  });

  it('random programs across a window boundary end as interpreted (eager JIT)', () => {
    // The program sits across the first window boundary, after a NOP run that starts
    // with a jump to it; its jumps (to small offsets) land in the first window, whose
    // NOPs lead back to it: loops that go from window to window.
    const at = JIT_WINDOW - 20;
    const placed = program.map((p) => {
      const words = new Int32Array(at + p.length + 1).fill(Op.NOP);
      words.set(code('PUSH', at, 'JUMP'));
      words.set(p, at);
      words[words.length - 1] = Op.HALT;
      return words;
    });
    fc.assert(
      fc.property(placed, fc.integer({ min: 1, max: 20_000 }), (words, gas) => {
        const a = run(words, 'eager', { gas });
        const b = run(words, false, { gas });
        expect(a.r).toEqual(b.r);
        expect(a.state).toEqual(b.state);
      }),
      { seed: SEED + 3, numRuns: 100 },
    );
  }, 30_000); // about 2 s on a quiet machine; a shared one can take several times that

  it('a machine whose loop straddles a window boundary is compiled and ends as interpreted', () => {
    // NOPs up to just before the boundary, then the countdown loop across it.
    const start = JIT_WINDOW - 6;
    const words = new Int32Array(JIT_WINDOW + 40).fill(Op.NOP);
    words.set(code('PUSH', 3000, 'PUSH', start, 'JUMP'));
    words.set(code('PUSH', 1, 'SUB', 'DUP', 'PUSH', start, 'SWAP', 'JUMPIF', 'HALT'), start);
    const ends = ([true, false] as const).map((jit) => {
      const m = Machine.boot({ code: words }, { jit, devices: false });
      const r = m.run();
      const page = m.store.dataPage(m.domain(m.rootDomain).slots[DomainSlot.CODE]!, false);
      return { r, state: snapshot(m), compiled: typeof (page.runCache as { fn?: unknown } | undefined)?.fn };
    });
    expect(ends[0]!.r).toMatchObject({ status: 'halted', steps: 3 + 3000 * 6 + 1 });
    expect(ends[0]!.compiled).toBe('function');
    expect({ ...ends[0], compiled: undefined }).toEqual({ ...ends[1], compiled: undefined });
  });
});

describe('the JIT never changes a result', () => {
  it('compiled and interpreted runs end in identical machines (random programs, gas and step limits)', () => {
    fc.assert(
      fc.property(
        program,
        fc.integer({ min: 1, max: 3000 }),
        fc.option(fc.nat(400)),
        (words, gas, maxSteps) => {
          const options = maxSteps === null ? { gas } : { gas, maxSteps };
          const a = run(words, true, options);
          const b = run(words, false, options);
          expect(a.r).toEqual(b.r);
          expect(a.state).toEqual(b.state);
        },
      ),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('single-stepping a compiled machine ends where one compiled run does', () => {
    fc.assert(
      fc.property(program, (words) => {
        const whole = run(words, 'eager', { gas: 500 });
        const m = Machine.boot({ code: words, data: [5, 6, 7] }, { time: 500, stackSize: 16, jit: 'eager' });
        let steps = 0;
        for (let r = m.step(); r.status === 'paused' && steps < 1000; r = m.step()) steps++;
        expect(snapshot(m)).toEqual(whole.state);
      }),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  it('recompiles code that writes its own code page', () => {
    // PAGEWRITE into the CODE page (slot 5) turns the ADD at offset 11 into a SUB before it runs.
    const words = code(...op('PAGEWRITE', Op.SUB, 5, 11), 'PUSH', 7, 'PUSH', 3, 'ADD', 'HALT');
    expect(words[11]).toBe(Op.ADD);
    for (const jit of [true, false, 'eager'] as const) {
      const m = Machine.boot({ code: words }, { jit });
      expect(m.run().status).toBe('halted');
      expect(m.stack()).toEqual([4]);
    }
  });
});

describe('stack pages that are also code pages', () => {
  // Stack words are written outside the store (no `changes` bump), so compiled code
  // must never outlive a write to its page through a stack.
  it('a domain whose stack page is its own code page runs as interpreted', () => {
    // PUSH HALT overwrites offset 0 with HALT; PUSH 0, JUMP then jumps back to it.
    const words = code('PUSH', Op.HALT, 'PUSH', 7, 'PUSH', 0, 'JUMP', 'NOP');
    const ends = ([false, true, 'eager'] as const).map((jit) => {
      const m = Machine.boot({ code: words }, { jit, devices: false });
      const root = m.store.object(m.store.kernel.root) as KeyPage;
      root.slots[DomainSlot.STACK] = root.slots[DomainSlot.CODE]!;
      return { r: m.run({ maxSteps: 100 }), state: snapshot(m) };
    });
    expect(ends[0]!.r).toMatchObject({ status: 'halted', steps: 5 });
    expect(ends[1]).toEqual(ends[0]);
    expect(ends[2]).toEqual(ends[0]);
  });

  it('code compiled for one domain is dropped after another domain pushed onto that page', () => {
    // The server's stack is the root's code page from offset 8: its pushes (and the
    // zeroing of what RETURN pops) rewrite the root's PUSH 2, ADD, HALT.
    const rootCode = code(
      'PUSH',
      12,
      'PUSH',
      20,
      'CALL',
      'PUSH',
      1,
      'PUSH',
      2,
      'ADD',
      'HALT',
      'NOP',
      'NOP',
      'NOP',
    );
    const serverCode = code('PUSH', 40, 'PUSH', 11, 'PUSH', 20, 'PUSH', 0, 'RETURN');
    const ends = ([false, true, 'eager'] as const).map((jit) => {
      const m = Machine.boot({ code: rootCode }, { jit, devices: false });
      const store = m.store;
      const root = store.object(store.kernel.root) as KeyPage;
      const mem = root.slots[DomainSlot.MEMORY]!;
      const serverCodeKey = store.createPage(PageType.data, mem, serverCode.length);
      store.dataPage(serverCodeKey, true).words.set(serverCode);
      const pageKey = store.createPage(PageType.keys, mem, DOMAIN_SLOTS);
      const slots = store.keyPage(pageKey, true).slots;
      slots[DomainSlot.TIME] = root.slots[DomainSlot.TIME]!;
      slots[DomainSlot.CODE] = serverCodeKey;
      slots[DomainSlot.STACK] = root.slots[DomainSlot.CODE]!;
      slots[DomainSlot.POINTER] = numberKey(8);
      root.slots[12] = store.makeDomain(pageKey);
      return { r: m.run(), stack: m.stack(), state: snapshot(m) };
    });
    expect(ends[0]!.r.status).toBe('halted');
    expect(ends[0]!.stack).toEqual([1, 40, 0, Op.NOP]);
    expect(ends[1]).toEqual(ends[0]);
    expect(ends[2]).toEqual(ends[0]);
  });
});

describe('compiling is paid for by gas already spent', () => {
  it('compiles a page only after it ran its warm-up, and starts over after every change', () => {
    const mem = Machine.boot({ code: [Op.HALT] }, { devices: false }).store;
    const key = mem.createPage(0, mem.meterKey(mem.primeMemory, false), 100);
    const page = mem.dataPage(key, true);
    const warm = warmupFor(100);
    expect(compiledFor(page, warm - 1)).toBeNull();
    expect(compiledFor(page, 1)).toBeTypeOf('function');
    mem.writeWord(key, 0, Op.NOP); // any change: the page must warm up again
    expect(compiledFor(page, warm - 1)).toBeNull();
    expect(compiledFor(page, 0, true)).toBeTypeOf('function'); // eager
  });

  it('a loop that rewrites its own large code page runs interpreted, never recompiling each round', () => {
    // 2000 NOPs of padding make the page large; the loop writes a NOP over a NOP on
    // each round (a change), so the page never stays unchanged long enough to warm up.
    // loop (at 2): PAGEWRITE(CODE, 3000, NOP); counter - 1; DUP; jump to 2 while non-zero.
    const body = [...op('PAGEWRITE', Op.NOP, 5, 3000), ...op('SUB', 1), 'DUP', 'PUSH', 2, 'SWAP', 'JUMPIF'];
    const loop = code('PUSH', 100_000, ...body);
    const words = new Int32Array(3001).fill(Op.NOP);
    words.set(loop);
    words[3000] = Op.HALT;
    const steps = 3 * warmupFor(words.length); // well past the warm-up of an unchanging page
    const cacheAfter = (program: Int32Array) => {
      const m = Machine.boot({ code: program }, { time: 10_000_000 });
      expect(m.run({ maxSteps: steps }).status).toBe('paused');
      const codePage = m.store.dataPage(m.domain(m.rootDomain).slots[5]!, false);
      return codePage.runCache as { fn: unknown; ran: number } | undefined;
    };
    const rewriting = cacheAfter(words);
    expect(rewriting?.fn).toBeUndefined(); // never compiled: every round changed the page
    expect(rewriting?.ran ?? 0).toBeLessThan(20);
    // The same loop writing to its DATA page (slot 8, word 0) instead is compiled once warm.
    const still = words.slice();
    expect([still[5], still[7]]).toEqual([5, 3000]);
    still[5] = 8;
    still[7] = 0;
    expect(typeof cacheAfter(still)?.fn).toBe('function');
  });
});

describe('PICK and PUT (frame access)', () => {
  it('a loop keeping its counters deep in the stack ends alike with the JIT off, on and eager', () => {
    // sum, i on the stack under two scratch words; loop: sum += i; i -= 1 while i > 0.
    const words = code(
      ...['PUSH', 0, 'PUSH', 50, 'PUSH', 7, 'PUSH', 8], // sum i x y
      // loop (offset 8): read i and sum from depth, add, store back
      ...['PICK', 3, 'PICK', 3, 'ADD', 'PUT', 3], // sum+i over sum
      ...['PICK', 2, 'PUSH', 1, 'SUB', 'DUP', 'PUT', 3], // i-1 over i, keep a copy
      ...['PUSH', 8, 'SWAP', 'JUMPIF'],
    );
    const ends = ([false, true, 'eager'] as const).map((jit) => {
      const m = Machine.boot({ code: words }, { jit, time: 100_000, stackSize: 16 });
      for (let i = 0; i < 20; i++) m.run(); // warm up the JIT across runs
      return { r: m.run(), stack: m.stack(), state: snapshot(m) };
    });
    expect(ends[0]!.stack).toEqual([1275, 0, 7, 8]);
    expect(ends[1]).toEqual(ends[0]);
    expect(ends[2]).toEqual(ends[0]);
  });

  it('compiles PICK and PUT into fast blocks, and leaves bad depths to the interpreter', () => {
    const fn = compileCode(code('PUSH', 1, 'PUSH', 2, 'PICK', 1, 'PUT', 1, 'PICK', -1))!;
    const stack = new Int32Array(8);
    const regs = Int32Array.from([0, 0, 100, 8]);
    fn(stack, regs, NO_VIEWS);
    expect([regs[0], regs[1]]).toEqual([8, 2]); // stopped at PICK -1
    expect([...stack.slice(0, 3)]).toEqual([1, 2, 0]);
  });
});

describe('compiled code shared between machines', () => {
  it('machines booted from the same program run one compiled function, compiled once', () => {
    const countdown = ['PUSH', 1000, 'PUSH', 1, 'SUB', 'DUP', 'PUSH', 2, 'SWAP', 'JUMPIF'];
    const words = code(...countdown, 'PUSH', 77, 'HALT');
    const boot = () => Machine.boot({ code: words }, { jit: 'eager', devices: false });
    const first = boot();
    expect(first.run().status).toBe('halted');
    const before = compiledWordsTotal();
    const second = boot();
    expect(second.run().status).toBe('halted');
    expect(compiledWordsTotal()).toBe(before);
    expect(snapshot(second)).toEqual(snapshot(first));
  });

  it(`keeps at most JIT_CACHE_WORDS (${JIT_CACHE_WORDS}) words of shared code, the least recently used dropped first`, () => {
    const size = 4096;
    for (let i = 0; i < (2 * JIT_CACHE_WORDS) / size + 2; i++) {
      const words = new Int32Array(size).fill(Op.NOP);
      words.set([Op.PUSH, i, Op.HALT], size - 3);
      const m = Machine.boot({ code: words }, { jit: 'eager', devices: false });
      expect(m.run().status).toBe('halted');
      expect(compiledWordsShared()).toBeLessThanOrEqual(JIT_CACHE_WORDS + size);
    }
    expect(compiledWordsShared()).toBeGreaterThan(JIT_CACHE_WORDS / 2);
  });
});
