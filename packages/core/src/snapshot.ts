// A store as plain data: every object (in id order) and the kernel record, with keys
// described as text. Deterministic, so two machines compare with a deep equality;
// for tests, debuggers and embedders checking that two runs ended alike.
import { describeKey } from './keys.js';
import { ObjectKind } from './objects.js';
import type { KernelState, Store } from './store.js';

export interface StoreSnapshot {
  readonly nextId: number;
  readonly objectCount: number;
  readonly kernel: KernelState;
  /** One record per live object: `{ data | keys | meter | device: id, v: version, … }`. */
  readonly objects: Record<string, unknown>[];
}

/** Everything observable in a store, as plain data (a copy). */
export function snapshotStore(store: Store): StoreSnapshot {
  const objects: Record<string, unknown>[] = [];
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
