// Test-only helpers for the store's tests: a structural snapshot of a whole store
// and an assertion that an operation faults and leaves the store unchanged.
// Not exported from index.ts.
import { expect } from 'vitest';
import { type FaultName, GuestFault } from './faults.js';
import { snapshotStore } from './snapshot.js';
import type { Store } from './store.js';

/** Everything observable in a store, as plain data that `toEqual` can compare. */
export const snapshot = snapshotStore;

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
