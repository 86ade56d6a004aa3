// The host's time follows gas: for each instruction whose host work can grow with
// the state (sizes, meter depth, the store at a version wrap, the run queue,
// compiling), the work at N and 4N is counted (slots and words allocated, queue
// entries read, words compiled) and stays within a constant of the gas paid.
import { DomainSlot, DomainState, KeyPage, LIMITS, numberKey, PageType, type Store } from '@keyvm/core';
import { gasFor, INSTRUCTIONS, Op, SIZE_GAS } from '@keyvm/isa';
import { describe, expect, it } from 'vitest';
import { compiledWordsKept, compiledWordsTotal, JIT_CACHE_WORDS, warmupFor } from './jit.js';
import { BootSlot, Machine } from './machine.js';
import { code, op } from './test-support.js';
import { addDomain, asm, rootPage } from './testing.test-helpers.js';

const gasOf = (o: number) => INSTRUCTIONS[o]!.gas;
/** Gas a run of `program` uses on a fresh machine (unlimited meters). */
const gasUsed = (program: Int32Array, setup?: (m: Machine) => void): number => {
  const m = Machine.boot({ code: program }, { devices: false });
  setup?.(m);
  const r = m.run();
  expect(r.status, JSON.stringify(r)).toBe('halted');
  return r.gasUsed;
};

describe('page sizes: what the host allocates and copies is paid for', () => {
  it.each([
    ['key page', PageType.keys, SIZE_GAS.gasPerSlot],
    ['data page', PageType.data, 1 / SIZE_GAS.wordsPerGas],
  ])('a %s grown to N and 4N slots or words: gas grows linearly, covering every one', (_, type, perUnit) => {
    for (const n of [4096, 16_384]) {
      const grow = code(...op('CREATEPAGE', 16, type, 1, 0), ...op('PAGESIZESET', 16, n), 'HALT');
      const create = code(...op('CREATEPAGE', 16, type, 1, n), 'HALT');
      const base = 6 + gasOf(Op.CREATEPAGE) + gasOf(Op.PAGESIZESET) + gasOf(Op.HALT);
      const free = type === PageType.data ? SIZE_GAS.free : 0;
      // A data page's words are allocated outside the heap: a fixed price for that.
      const allocation = type === PageType.data ? SIZE_GAS.allocation : 0;
      // The host allocates and fills n slots or words (copying the old ones, fewer): paid at perUnit.
      expect(gasUsed(grow) - base).toBe(allocation + Math.ceil((n - free) * perUnit));
      expect(gasUsed(create) - (4 + gasOf(Op.CREATEPAGE) + gasOf(Op.HALT))).toBe(
        allocation + Math.ceil((n - free) * perUnit),
      );
    }
  });

  it('a key page resized from N slots to 0 and back replaces its array (nothing kept from the larger size)', () => {
    const m = Machine.boot({
      code: code(...op('CREATEPAGE', 16, 1, 1, 1000), ...op('PAGESIZESET', 16, 3), 'HALT'),
    });
    m.run();
    const page = m.store.keyPage(rootPage(m).slots[16]!, false);
    expect(page.slots.length).toBe(3);
    expect(m.store.keySlotCount).toBe(
      [...m.store.objects()].reduce((n, o) => n + (o instanceof KeyPage ? o.size : 0), 0),
    );
  });
});

describe('meter chains: instructions that walk them pay for their depth', () => {
  /** The root domain on a time meter `depth` below the prime meter. */
  const onDepth = (depth: number) => (m: Machine) => {
    let key = m.store.meterKey(m.store.primeTime, true);
    for (let i = 0; i < depth; i++) key = m.store.createMeter(key, 1e12);
    rootPage(m).slots[DomainSlot.TIME] = key;
  };
  it.each([
    ['METERREAD', op('METERREAD', DomainSlot.TIME)],
    ['METERSET', op('METERSET', DomainSlot.TIME, 5)],
    ['CREATEMETER', op('CREATEMETER', 16, DomainSlot.TIME, 5)],
    ['SEVER', op('SEVER', DomainSlot.TIME)],
  ])('%s at depth N and 4N costs its base plus the depth', (name, program) => {
    const o = Op[name as 'METERREAD'];
    const cost = (depth: number) =>
      gasUsed(code(...program, 'HALT'), onDepth(depth)) - (program.length - 1) / 2 - 1;
    expect([cost(1), cost(7), cost(28)]).toEqual([gasOf(o) + 1, gasOf(o) + 7, gasOf(o) + 28]);
    expect(LIMITS.maxMeterDepth).toBeLessThanOrEqual(32);
  });
});

describe('SEVER at the u32 version limit pays for its walk over the store', () => {
  /** A machine whose store holds `n` extra key pages of 4 slots and a data page at the version limit in slot 16. */
  const build = (n: number) => {
    const m = Machine.boot({ code: code(...op('SEVER', 16), 'HALT') }, { devices: false });
    const store: Store = m.store;
    const mem = rootPage(m).slots[DomainSlot.MEMORY]!;
    for (let i = 0; i < n; i++) store.createPage(PageType.keys, mem, 4);
    const target = store.createPage(PageType.data, mem, 1);
    const page = store.dataPage(target, true);
    page.version = LIMITS.maxCount;
    rootPage(m).slots[16] = store.pageKey(page);
    return m;
  };
  it('gas = base + objects + key slots, so N and 4N pages cost in proportion', () => {
    const walk = (n: number) => {
      const m = build(n);
      const expected = m.store.nextId + m.store.keySlotCount;
      const r = m.run();
      expect(r.status).toBe('halted');
      expect(m.store.dataPage(rootPage(m).slots[16]!, false).version).toBe(0);
      return { paid: r.gasUsed - 1 - gasOf(Op.SEVER) - gasOf(Op.HALT), expected };
    };
    const small = walk(500);
    const large = walk(2000);
    expect(small.paid).toBe(small.expected);
    expect(large.paid).toBe(large.expected);
    expect(large.paid / small.paid).toBeGreaterThan(3);
    expect(large.paid / small.paid).toBeLessThan(5);
    // Below the limit, SEVER is O(1) and costs its base.
    expect(gasUsed(code(...op('CREATEPAGE', 16, 0, 1, 0), ...op('SEVER', 16), 'HALT'))).toBe(
      5 + gasOf(Op.CREATEPAGE) + gasOf(Op.SEVER) + gasOf(Op.HALT),
    );
  });
});

describe('the run queue: no per-step scan of what an image or a guest can grow', () => {
  /** Reads of run-queue entries while the root runs `steps` steps with `n` dead (halted) domains queued, quantum 1. */
  const reads = (n: number, steps: number, state: number): number => {
    const m = Machine.boot({ code: asm('loop:', ':loop', 'JUMP') }, { devices: false, quantum: 1 });
    const queue: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = addDomain(m, ['HALT']);
      d.slots[DomainSlot.STATE] = numberKey(state);
      queue.push(d.id);
    }
    let count = 0;
    m.store.kernel.runQueue = new Proxy(queue, {
      get(target, p, receiver) {
        if (typeof p === 'string' && /^\d+$/.test(p)) count++;
        return Reflect.get(target, p, receiver);
      },
    });
    expect(m.run({ maxSteps: steps }).status).toBe('paused');
    return count;
  };
  it('halted domains in the queue are read about once each, not once per time slice', () => {
    for (const n of [500, 2000]) {
      const r = reads(n, 3000, DomainState.halted);
      expect(r).toBeLessThan(2 * n + 3000 * 2 + 100);
    }
  });

  it('YIELD among N and 4N running domains reads O(1) queue entries per YIELD', () => {
    const perYield = (n: number) => {
      const m = Machine.boot({ code: asm('loop:', 'YIELD', ':loop', 'JUMP') }, { devices: false });
      for (let i = 0; i < n; i++) {
        const d = addDomain(m, ['loop:', 'YIELD', ':loop', 'JUMP']);
        d.slots[DomainSlot.STATE] = numberKey(DomainState.running);
        m.store.kernel.runQueue.push(d.id);
      }
      const queue = m.store.kernel.runQueue;
      let count = 0;
      m.store.kernel.runQueue = new Proxy(queue, {
        get(target, p, receiver) {
          if (typeof p === 'string' && /^\d+$/.test(p)) count++;
          return Reflect.get(target, p, receiver);
        },
      });
      const steps = 8 * n;
      m.run({ maxSteps: steps });
      return count / steps;
    };
    const small = perYield(200);
    const large = perYield(800);
    expect(large).toBeLessThan(small * 1.5 + 1);
    expect(large).toBeLessThan(4);
  });

  it('YIELD beside N and 4N domains blocked on input reads O(1) queue entries per YIELD', () => {
    const perYield = (n: number) => {
      const m = Machine.boot({ code: asm('loop:', 'YIELD', ':loop', 'JUMP') });
      const input = rootPage(m).slots[BootSlot.input]!;
      const readers: KeyPage[] = [];
      for (let i = 0; i < n; i++) {
        const d = addDomain(m, [...op('DEVICE', 13, 0, 0)], { slots: { 13: input } });
        d.slots[DomainSlot.STATE] = numberKey(DomainState.running);
        m.store.kernel.runQueue.push(d.id);
        readers.push(d);
      }
      // Each reader runs once and blocks (no input), outside the count.
      expect(m.run({ maxSteps: 3 * n + 10 }).status).toBe('paused');
      expect(readers.every((d) => m.domain(d.id).stateName === 'blocked')).toBe(true);
      const queue = m.store.kernel.runQueue;
      expect(queue).toHaveLength(n);
      let count = 0;
      m.store.kernel.runQueue = new Proxy(queue, {
        get(target, p, receiver) {
          if (typeof p === 'string' && /^\d+$/.test(p)) count++;
          return Reflect.get(target, p, receiver);
        },
      });
      const steps = 4 * n;
      expect(m.run({ maxSteps: steps }).status).toBe('paused');
      const perStep = count / steps;
      // They were blocked, not gone: input wakes them, and one reads it (then runs off its code).
      m.provideInput([7]);
      expect(m.run({ maxSteps: 3 * n + 10 }).status).toBe('paused');
      expect(readers.filter((d) => m.domain(d.id).stateName === 'halted')).toHaveLength(1);
      return perStep;
    };
    const small = perYield(200);
    const large = perYield(800);
    // Reads are the N blocked entries once (the first scan) plus O(1) per YIELD.
    expect(large).toBeLessThan(small * 1.5 + 1);
    expect(large).toBeLessThan(4);
  });
});

describe('the JIT: compiling is paid by the warm-up, and compiled code is bounded', () => {
  it('a self-modifying code page compiles at most once per warm-up of interpreted instructions', () => {
    const W = 4096;
    const page = new Array<number>(W).fill(Op.NOP);
    page.splice(0, 3, Op.PUSH, 6, Op.JUMP);
    // Writes word 5 at index 5 of its own CODE page (either PAGEWRITE operand order), then loops.
    const tail = [...code(...op('PAGEWRITE', 5, 5, 5)), ...code('PUSH', 6, 'JUMP')];
    page.splice(W - tail.length, tail.length, ...tail);
    for (const gas of [200_000, 800_000]) {
      const before = compiledWordsTotal();
      const m = Machine.boot({ code: page }, { devices: false });
      m.run({ gas });
      const compiled = compiledWordsTotal() - before;
      // Each compile of the page follows a warm-up of warmupFor(W) instructions since its last change.
      expect(compiled).toBeLessThanOrEqual(W * Math.ceil(gas / warmupFor(W)));
    }
  });

  it(`keeps at most JIT_CACHE_WORDS (${JIT_CACHE_WORDS}) words of compiled code, over every machine`, () => {
    const pageWords = 8192;
    const pages = Math.ceil((2 * JIT_CACHE_WORDS) / pageWords) + 2;
    const body = new Array<number>(pageWords).fill(Op.NOP);
    body[pageWords - 1] = Op.HALT;
    for (let i = 0; i < pages; i++) {
      // Every boot copies the words into a code page of its own.
      const m = Machine.boot({ code: body }, { devices: false, jit: 'eager' });
      expect(m.run().status).toBe('halted');
      expect(compiledWordsKept()).toBeLessThanOrEqual(JIT_CACHE_WORDS + pageWords);
    }
    expect(compiledWordsKept()).toBeGreaterThan(0);
    expect(gasFor(INSTRUCTIONS[Op.ADD]!, 1)).toBe(1);
  });
});
