// Property: for generated programs that really create pages, key objects, meters and
// domains, the host heap they fill (counted by a model of V8's costs, measured in
// bench/host-cost.bench.mjs) stays within HOST_BYTES_PER_WORD bytes per word the
// memory meter spent, plus a fixed allowance. Fixed seed, printed; KEYVM_SEED replays another.
import { DataPage, Device, type Key, KeyPage, Meter, NULL_KEY, numberKey, type Store } from '@keyvm/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Machine } from './machine.js';
import { code, op } from './test-support.js';
import { SEED } from './testing.test-helpers.js';

/**
 * Host bytes of what a store holds, by kind (V8 on 64-bit Node 20), as measured by
 * `node --expose-gc packages/interpreter/bench/host-cost.bench.mjs` (which prints the
 * same figures next to its measurements): with the array growth margin for slots.
 */
export const HOST_BYTES = Object.freeze({
  dataPage: 280,
  dataWord: 4,
  keyPage: 136,
  slot: 12,
  keyObject: 56,
  meter: 112,
  device: 112,
  id: 8,
  /** Scheduling state, the run cache once it has run and two freed page objects it may name. */
  domain: 672,
});

/** The promise checked: host bytes <= this many per word spent from the memory meter, plus the allowance. */
const HOST_BYTES_PER_WORD = 4;
/** The two prime meters and the kernel record, which nobody pays for. */
const ALLOWANCE = 2 * HOST_BYTES.meter + 2 * HOST_BYTES.id + 512;

/** Keys shared by everyone (the null key, small number keys): they cost a slot nothing more. */
const shared = new Set<Key>([NULL_KEY, ...Array.from({ length: 1024 }, (_, i) => numberKey(i))]);

/** What the store's objects cost the host, counted by the model. */
export function hostBytes(store: Store): number {
  let bytes = store.nextId * HOST_BYTES.id;
  const keys = new Set<Key>();
  for (const o of store.objects()) {
    if (o instanceof DataPage) bytes += HOST_BYTES.dataPage + o.size * HOST_BYTES.dataWord;
    else if (o instanceof KeyPage) {
      bytes += HOST_BYTES.keyPage + o.size * HOST_BYTES.slot + (o.isDomain ? HOST_BYTES.domain : 0);
      for (const k of o.slots) if (!shared.has(k)) keys.add(k);
    } else if (o instanceof Meter) {
      bytes += HOST_BYTES.meter;
      if (!shared.has(o.keeper)) keys.add(o.keeper);
    } else if (o instanceof Device) bytes += HOST_BYTES.device + 8 * o.transcript.length;
  }
  return bytes + keys.size * HOST_BYTES.keyObject;
}

// Slots of the root domain the programs use: 16..19 data pages, 20..21 key pages,
// 22..23 meters, 24 a 64-slot key page for ATTENUATE-made keys, 25 number keys,
// 26 a fresh key page made a domain, its gate in 27.
const action = fc.oneof(
  fc
    .record({ slot: fc.integer({ min: 16, max: 19 }), size: fc.integer({ min: 0, max: 400 }) })
    .map(({ slot, size }) => op('CREATEPAGE', slot, 0, 1, size)),
  fc
    .record({ slot: fc.integer({ min: 20, max: 21 }), size: fc.integer({ min: 0, max: 40 }) })
    .map(({ slot, size }) => op('CREATEPAGE', slot, 1, 1, size)),
  fc
    .record({ slot: fc.integer({ min: 16, max: 21 }), size: fc.integer({ min: 0, max: 300 }) })
    .map(({ slot, size }) => op('PAGESIZESET', slot, size % (slot >= 20 ? 41 : 301))),
  fc
    .record({ slot: fc.integer({ min: 16, max: 21 }), size: fc.integer({ min: 0, max: 30 }) })
    .map(({ slot, size }) => [
      ...op('DESTROY', slot),
      ...op('CREATEPAGE', slot, slot >= 20 ? 1 : 0, 1, size),
    ]),
  fc.integer({ min: 0, max: 63 }).map((i) => op('ATTENUATE', 24, i, 2, 8, 1)),
  fc.integer({ min: 1024, max: 1 << 30 }).map((w) => op('NUMKEY', 25, w)),
  fc
    .record({ slot: fc.integer({ min: 22, max: 23 }), amount: fc.integer({ min: 0, max: 1000 }) })
    .map(({ slot, amount }) => op('CREATEMETER', slot, 0, amount)),
  fc.constant([...op('CREATEPAGE', 26, 1, 1, 12), ...op('MAKEDOMAIN', 27, 26)]),
);

const prologue = [
  ...[16, 17, 18, 19].flatMap((s) => op('CREATEPAGE', s, 0, 1, 1)),
  ...op('CREATEPAGE', 20, 1, 1, 1),
  ...op('CREATEPAGE', 21, 1, 1, 1),
  ...op('CREATEPAGE', 24, 1, 1, 64),
];

describe('host memory follows the memory meter', () => {
  it(`for generated programs that create objects, host bytes <= ${HOST_BYTES_PER_WORD} x words spent + ${ALLOWANCE} (seed ${SEED})`, () => {
    let created = 0;
    fc.assert(
      fc.property(
        fc.array(action, { minLength: 5, maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(6_000, 20_000, 200_000),
        (actions, rounds, memory) => {
          // The actions `rounds` times over (objects pile up: replaced ones stay in the store).
          const body = Array.from({ length: rounds }, () => actions.flat()).flat();
          const m = Machine.boot({ code: code(...prologue, ...body, 'HALT') }, { memory, devices: false });
          const before = m.store.objectCount;
          const r = m.run({ gas: 10_000_000 });
          // The programs are built not to fault but for memory: what they create is real.
          if (r.status !== 'halted') expect(r.fault?.code, JSON.stringify(r)).toBe('out-of-memory');
          created += m.store.objectCount - before;
          const spent = memory - m.store.primeMemory.remaining;
          expect(hostBytes(m.store)).toBeLessThanOrEqual(HOST_BYTES_PER_WORD * spent + ALLOWANCE);
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
    // Not vacuous: the programs made many objects in all.
    expect(created).toBeGreaterThan(1000);
  });
});
