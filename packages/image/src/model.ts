// The image model: the one intermediate form between a Store and either the binary
// or the JSON encoding. Both decoders produce it, one validator checks it, and only
// then is a Store built from it.
import {
  DataPage,
  Device,
  DomainSlot,
  type KernelState,
  type Key,
  KeyKind,
  KeyPage,
  Meter,
  makeKey,
  ObjectKind,
  type Resource,
  Store,
  type StoreObject,
} from '@keyvm/core';
import { isQueuedState } from './validate.js';

/** A key as read from input: fields are unchecked until validation. */
export interface KeyRecord {
  readonly kind: number;
  readonly target: number;
  readonly version: number;
  readonly value: number;
}

export interface MeterRecord {
  readonly id: number;
  readonly version: number;
  readonly resource: number;
  /** Parent meter id, 0 for a prime meter. */
  readonly parent: number;
  /** A safe integer >= 0, or UNLIMITED (Infinity). */
  readonly remaining: number;
  readonly keeper: KeyRecord;
}

export interface DataPageRecord {
  readonly kind: typeof ObjectKind.dataPage;
  readonly id: number;
  readonly version: number;
  readonly meter: number;
  readonly words: Int32Array;
}

export interface KeyPageRecord {
  readonly kind: typeof ObjectKind.keyPage;
  readonly id: number;
  readonly version: number;
  readonly meter: number;
  readonly isDomain: boolean;
  readonly resumeGen: number;
  readonly slots: readonly KeyRecord[];
}

export interface DeviceRecord {
  readonly kind: typeof ObjectKind.device;
  readonly id: number;
  readonly version: number;
  readonly deviceType: number;
  readonly transcript: readonly number[];
}

export type ObjectRecord = DataPageRecord | KeyPageRecord | DeviceRecord;

/** The whole machine: meters and other objects each in ascending id, and the registers. */
export interface ImageModel {
  readonly nextId: number;
  readonly meters: readonly MeterRecord[];
  readonly objects: readonly ObjectRecord[];
  readonly kernel: KernelState;
}

/**
 * The model of a store, keys written as they read now (void keys become null).
 * Data pages are the store's own objects, transcripts are shared, not copied: read
 * the model, never give it to `storeFromModel`.
 */
export function modelFromStore(store: Store): ImageModel {
  const meters: MeterRecord[] = [];
  const objects: ObjectRecord[] = [];
  const nextId = store.nextId;
  for (let id = 1; id < nextId; id++) {
    const o = store.object(id);
    if (o === undefined) continue;
    switch (o.kind) {
      case ObjectKind.meter:
        meters.push({
          id: o.id,
          version: o.version,
          resource: o.resource,
          parent: o.parent?.id ?? 0,
          remaining: o.remaining,
          keeper: store.normalize(o.keeper),
        });
        break;
      case ObjectKind.dataPage:
        objects.push(o); // a DataPage is a DataPageRecord: nothing to allocate per page
        break;
      case ObjectKind.keyPage: {
        const src = o.slots;
        const slots = new Array<Key>(src.length);
        for (let i = 0; i < src.length; i++) slots[i] = store.normalize(src[i]!);
        objects.push({
          kind: o.kind,
          id: o.id,
          version: o.version,
          meter: o.meter,
          isDomain: o.isDomain,
          resumeGen: o.resumeGen,
          slots,
        });
        break;
      }
      case ObjectKind.device:
        objects.push({
          kind: o.kind,
          id: o.id,
          version: o.version,
          deviceType: o.deviceType,
          transcript: o.transcript,
        });
        break;
    }
  }
  const k = store.kernel;
  // The run queue as the scheduler reads it: entries for domains that are gone or can
  // no longer run are dropped when it reaches them, so they are not written.
  const runQueue = k.runQueue.filter((id) => {
    const d = store.object(id);
    return d?.kind === ObjectKind.keyPage && d.isDomain && isQueuedState(d.slots[DomainSlot.STATE]?.value);
  });
  return { nextId: store.nextId, meters, objects, kernel: { ...k, runQueue } };
}

/** A validated key record as a core key (shared null and small number keys). */
function toKey(k: KeyRecord): Key {
  return makeKey(k.kind as KeyKind, k.target, k.version, k.value);
}

/**
 * Build the store a validated model describes. Only call this after `validateModel`:
 * it places objects and trusts every id and key. Arrays in the model are taken over,
 * and so are data pages that already are core `DataPage`s (the binary decoder's):
 * never pass a model whose pages belong to a live store.
 */
export function storeFromModel(model: ImageModel): Store {
  const { meters, objects } = model;
  const built = new Array<StoreObject>(meters.length + objects.length);
  let n = 0;
  const meterById = new Map<number, Meter>();
  for (const m of meters) {
    const parent = m.parent === 0 ? null : meterById.get(m.parent)!;
    const meter = new Meter(m.id, m.version, m.resource as Resource, parent, m.remaining, toKey(m.keeper));
    meterById.set(m.id, meter);
    built[n++] = meter;
  }
  for (const o of objects) {
    switch (o.kind) {
      case ObjectKind.dataPage:
        built[n++] = o instanceof DataPage ? o : new DataPage(o.id, o.version, o.words, o.meter);
        break;
      case ObjectKind.keyPage: {
        const slots = new Array<Key>(o.slots.length);
        for (let i = 0; i < slots.length; i++) {
          const k = o.slots[i]!;
          slots[i] = k.kind === KeyKind.null || k.kind === KeyKind.number ? toKey(k) : (k as Key);
        }
        built[n++] = new KeyPage(o.id, o.version, slots, o.meter, o.isDomain, o.resumeGen);
        break;
      }
      case ObjectKind.device:
        built[n++] = new Device(o.id, o.version, o.deviceType, [...o.transcript]);
        break;
    }
  }
  const k = model.kernel;
  return Store.restore(built, model.nextId, { ...k, runQueue: [...k.runQueue] });
}
