// Test-only helpers for the store's tests: a structural snapshot of a whole store
// and an assertion that an operation faults and leaves the store unchanged.
// Not exported from index.ts.
import { expect } from 'vitest';
import { type FaultName, GuestFault } from './faults.js';
import { describeKey } from './keys.js';
import { ObjectKind } from './objects.js';
import type { Store } from './store.js';

/** Everything observable in a store, as plain data that `toEqual` can compare. */
export function snapshot(store: Store): unknown {
  const objects: unknown[] = [];
  for (const o of store.objects()) {
    switch (o.kind) {
      case ObjectKind.dataPage:
        objects.push({ data: o.id, v: o.version, meter: o.meter, words: Array.from(o.words) });
        break;
      case ObjectKind.keyPage:
        objects.push({
          keys: o.id,
          v: o.version,
          meter: o.meter,
          slots: o.slots.map(describeKey),
          isDomain: o.isDomain,
          resumeGen: o.resumeGen,
        });
        break;
      case ObjectKind.meter:
        objects.push({
          meter: o.id,
          v: o.version,
          resource: o.resource,
          parent: o.parent?.id ?? null,
          remaining: o.remaining,
          keeper: describeKey(o.keeper),
        });
        break;
      case ObjectKind.device:
        objects.push({ device: o.id, v: o.version, type: o.deviceType, transcript: [...o.transcript] });
        break;
    }
  }
  return {
    nextId: store.nextId,
    objectCount: store.objectCount,
    kernel: structuredClone(store.kernel),
    objects,
  };
}

/** The GuestFault `op` throws, or undefined when it throws nothing (other errors rethrow). */
export function guestFaultOf(op: () => unknown): GuestFault | undefined {
  try {
    op();
  } catch (e) {
    if (e instanceof GuestFault) return e;
    throw e;
  }
  return undefined;
}

/** Assert that `op` throws a GuestFault named `fault` and changes nothing in `store`. */
export function expectFault(store: Store, fault: FaultName, op: () => unknown): GuestFault {
  const before = snapshot(store);
  const f = guestFaultOf(op);
  expect(f, `expected a ${fault} fault, but the operation succeeded`).toBeInstanceOf(GuestFault);
  expect(f?.fault).toBe(fault);
  expect(snapshot(store)).toEqual(before);
  return f as GuestFault;
}
