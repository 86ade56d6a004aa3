// The host's memory follows the memory meters: every object a guest makes is paid
// for (a page of size 0 too), and evaluate runs under a bounded memory meter.
import { Device, DomainSlot, MEMORY_CHARGES, PageType, pageCharge } from '@keyvm/core';
import { describe, expect, it } from 'vitest';
import { DeviceType } from './devices.js';
import { EVALUATE_MEMORY, evaluate } from './evaluate.js';
import { Machine } from './machine.js';
import { code, op } from './test-support.js';
import { asm } from './testing.test-helpers.js';

/** A loop that creates pages of `type` and `size` into slot 16 until something stops it. */
const createLoop = (type: number, size: number) =>
  asm('loop:', ...op('CREATEPAGE', 16, type, DomainSlot.MEMORY, size), ':loop', 'JUMP');

describe('memory meters pay for every object', () => {
  it('a loop of CREATEPAGE size 0 under a 12 KB memory meter faults out-of-memory within a few pages', () => {
    const memory = 3072; // 12 KB
    const m = Machine.boot({ code: createLoop(PageType.data, 0) }, { memory, time: 10_000_000 });
    const bootCost = memory - m.store.primeMemory.remaining;
    const r = m.run();
    expect(r.status).toBe('fault');
    expect(r.fault?.code).toBe('out-of-memory');
    const pages = Math.floor((memory - bootCost) / pageCharge(PageType.data, 0));
    // 6 instructions a page (5 for CREATEPAGE and its operands, the jump), then the faulting one.
    expect(r.steps).toBeLessThanOrEqual(7 * (pages + 1));
    expect(m.store.objectCount).toBeLessThan(pages + 10);
  });

  it.each([
    ['data pages of size 0', PageType.data, 0],
    ['key pages of size 0', PageType.keys, 0],
    ['key pages of 4 slots', PageType.keys, 4],
  ])('the number of %s a meter buys is what it holds over their charge', (_, type, size) => {
    for (const memory of [20_000, 80_000]) {
      const m = Machine.boot({ code: createLoop(type, size) }, { memory, time: 100_000_000 });
      const left = m.store.primeMemory.remaining;
      const before = m.store.objectCount;
      expect(m.run().fault?.code).toBe('out-of-memory');
      const made = m.store.objectCount - before;
      expect(made).toBe(Math.floor(left / pageCharge(type as PageType, size)));
    }
  });

  it('ATTENUATE-made keys are paid by the slots that hold them', () => {
    const slots = 4;
    const program = code(
      ...op('CREATEPAGE', 16, PageType.keys, DomainSlot.MEMORY, slots),
      ...Array.from({ length: slots }, (_, i) =>
        op('ATTENUATE', 16, i, DomainSlot.SELF, DomainSlot.DATA, 1),
      ).flat(),
      'HALT',
    );
    const m = Machine.boot({ code: program }, { memory: 100_000 });
    const left = m.store.primeMemory.remaining;
    expect(m.run().status).toBe('halted');
    expect(left - m.store.primeMemory.remaining).toBe(pageCharge(PageType.keys, slots));
    // Each slot holds a key object made for it (~56 bytes) besides its reference (8): the slot's charge covers both.
    const page = m.store.keyPage(m.domain(m.rootDomain).slots[16]!, false);
    expect(new Set(page.slots).size).toBe(slots);
    expect(MEMORY_CHARGES.keySlot * 4).toBeGreaterThanOrEqual(56 + 8);
  });
});

describe('device transcripts', () => {
  it('every word a device records for a guest is paid by its MEMORY meter: a loop asking for the pending count stops', () => {
    // DEVICE input (slot 13) op 1 (pending), again and again: each answer is recorded for replay.
    const program = asm('loop:', ...op('DEVICE', 13, 1, 0), 'DROP', ':loop', 'JUMP');
    const m = Machine.boot({ code: program }, { memory: 5_000, time: 10_000_000 });
    const left = m.store.primeMemory.remaining;
    const r = m.run();
    expect(r.fault?.code).toBe('out-of-memory');
    const input = [...m.store.objects()].find(
      (o) => o instanceof Device && o.deviceType === DeviceType.input,
    ) as Device;
    expect(input.transcript.length).toBe(Math.floor(left / MEMORY_CHARGES.deviceWord));
    expect(m.store.primeMemory.remaining).toBeLessThan(MEMORY_CHARGES.deviceWord);
  });
});

describe('evaluate', () => {
  it(`boots with a bounded memory meter (EVALUATE_MEMORY, ${EVALUATE_MEMORY} words) by default`, () => {
    const e = evaluate({ code: createLoop(PageType.data, 1 << 20) }, [], 1_000_000_000);
    expect(e.status).toBe('fault');
    expect(e.fault?.code).toBe('out-of-memory');
  });

  it('takes the memory limit as an option', () => {
    const program = { code: code(...op('CREATEPAGE', 16, 0, 1, 5000), 'HALT') };
    expect(evaluate(program, [], 100_000, { memory: 10_000 }).status).toBe('halted');
    expect(evaluate(program, [], 100_000, { memory: 6_000 }).fault?.code).toBe('out-of-memory');
  });
});
