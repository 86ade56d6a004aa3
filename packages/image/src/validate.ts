// The one validator of image models, shared by the binary decoder, the JSON
// importer and the encoder: every rule an image must satisfy is written here once.
import {
  DOMAIN_STATE_NAMES,
  DomainSlot,
  DomainState,
  domainSlotProblem,
  FAULT_TABLE,
  type KernelState,
  KeyKind,
  LIMITS,
  MeterRights,
  ObjectKind,
  Resource,
  SPECIAL_SLOTS,
  UNLIMITED,
} from '@keyvm/core';
import { refuse, type Where } from './errors.js';
import type { ImageModel, KeyPageRecord, KeyRecord, MeterRecord, ObjectRecord } from './model.js';

/** Limits of the image format beyond the core's page limits. */
export const IMAGE_LIMITS = Object.freeze({
  /**
   * Largest nextId (the core's). The core keeps a table of nextId entries, so a
   * tiny hostile image must not be able to ask for an arbitrarily large one.
   */
  ...LIMITS,
});

/** Where each part of a model came from, for error messages. */
export interface Locator {
  nextId(): Where;
  /** Meter `i` (index in model.meters), optionally one named field of it. */
  meter(i: number, field?: string): Where;
  /** Object `i` (index in model.objects), optionally one named field, or element `index` of it. */
  object(i: number, field?: string, index?: number): Where;
  /** The keeper key of meter `i`. */
  keeper(i: number): Where;
  /** Slot `s` of key page `i` (index in model.objects). */
  slot(i: number, s: number): Where;
  kernel(field: keyof KernelState, index?: number): Where;
}

export const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
export const isI32 = (n: number): boolean => (n | 0) === n && !Object.is(n, -0);
export const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
export const isAmount = (n: number): boolean => n === UNLIMITED || isCount(n);

/**
 * Refuse a page larger than the core allows. The decoders call this before they
 * allocate the page; the validator calls it again for models from any source.
 */
export function checkPageSize(kind: number, size: number, where: Where | (() => Where)): void {
  const max = maxPageSize(kind);
  if (size > max)
    refuse(
      'limit',
      typeof where === 'function' ? where() : where,
      `a page of ${size} ${kind === ObjectKind.dataPage ? 'words' : 'slots'} is larger than ${max}`,
    );
}

/** The largest size of a data page (in words) or key page (in slots). */
export const maxPageSize = (kind: number): number =>
  kind === ObjectKind.dataPage ? LIMITS.maxDataPageWords : LIMITS.maxKeyPageSlots;

/** What a key's target must be, per key kind. */
type Target =
  | { readonly kind: 'meter'; readonly rec: MeterRecord }
  | { readonly kind: 'object'; readonly rec: ObjectRecord };

/** Index of `id` in the first `end` records of an ascending list, or -1. */
function findIndex(list: readonly { readonly id: number }[], id: number, end: number): number {
  let lo = 0;
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = list[mid]!.id;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

const KIND_WORDS = ['null', 'number', 'page', 'read-only page', 'domain', 'resume', 'meter', 'device'];

/**
 * Check a whole model. Throws the first ImageError found (in image order:
 * header, meters, objects, keys, kernel); returns normally when the model is a
 * machine the store can hold and the encoder writes back byte for byte.
 */
export function validateModel(model: ImageModel, at: Locator): void {
  const { nextId, meters, objects } = model;
  if (!Number.isInteger(nextId) || nextId < 3)
    refuse('bad-id', at.nextId(), `nextId ${nextId} is below 3 (ids 1 and 2 are the prime meters)`);
  if (nextId > IMAGE_LIMITS.maxNextId)
    refuse('limit', at.nextId(), `nextId ${nextId} is larger than ${IMAGE_LIMITS.maxNextId}`);

  // Lookups by id are binary searches over the two ascending lists (checked first),
  // so nothing proportional to nextId is allocated.
  const byId = {
    get(id: number): Target | undefined {
      const m = findIndex(meters, id, meters.length);
      if (m >= 0) return { kind: 'meter', rec: meters[m]! };
      const o = findIndex(objects, id, objects.length);
      return o >= 0 ? { kind: 'object', rec: objects[o]! } : undefined;
    },
  };
  const depth: number[] = [];
  // Locations are computed only on failure, and nothing is allocated per record:
  // these loops run once per object.
  const checkId = (id: number, prev: number, i: number, what: 'meter' | 'object'): void => {
    const where = () => (what === 'meter' ? at.meter(i, 'id') : at.object(i, 'id'));
    if (!Number.isInteger(id) || id <= prev || id >= nextId)
      refuse('bad-id', where(), `${what} id ${id} is not above ${prev} and below nextId ${nextId}`);
    if (what === 'object' && findIndex(meters, id, meters.length) >= 0)
      refuse('bad-id', where(), `${what} id ${id} is used twice`);
  };

  // ---- meters
  let prev = 0;
  for (let i = 0; i < meters.length; i++) {
    const m = meters[i]!;
    checkId(m.id, prev, i, 'meter');
    prev = m.id;
    if (!isU32(m.version))
      refuse('bad-meter', at.meter(i, 'version'), `meter #${m.id} version ${m.version} is not a u32`);
    if (m.resource !== Resource.time && m.resource !== Resource.memory)
      refuse(
        'bad-meter',
        at.meter(i, 'resource'),
        `meter #${m.id} resource ${m.resource} is not time (0) or memory (1)`,
      );
    if (!isAmount(m.remaining))
      refuse(
        'bad-meter',
        at.meter(i, 'remaining'),
        `meter #${m.id} holds ${m.remaining}: not a safe integer >= 0 or unlimited`,
      );
    const prime = i < 2;
    if (prime) {
      const want = i === 0 ? Resource.time : Resource.memory;
      if (m.id !== i + 1 || m.resource !== want || m.parent !== 0)
        refuse(
          'bad-meter',
          at.meter(i),
          `meter #${i + 1} must be the prime ${i === 0 ? 'time' : 'memory'} meter, with no parent`,
        );
      depth[i] = 0;
    } else {
      const pi = findIndex(meters, m.parent, i);
      const parent = pi < 0 ? undefined : { kind: 'meter' as const, rec: meters[pi]! };
      if (m.parent === 0 || parent === undefined || parent.kind !== 'meter')
        refuse(
          'bad-meter',
          at.meter(i, 'parent'),
          `meter #${m.id} parent #${m.parent} is not an earlier meter`,
        );
      if (parent.rec.resource !== m.resource)
        refuse(
          'bad-meter',
          at.meter(i, 'resource'),
          `meter #${m.id} and its parent #${m.parent} meter different resources`,
        );
      const d = depth[pi]! + 1;
      if (d > LIMITS.maxMeterDepth)
        refuse(
          'bad-meter',
          at.meter(i, 'parent'),
          `meter #${m.id} is ${d} deep, more than ${LIMITS.maxMeterDepth}`,
        );
      depth[i] = d;
    }
  }
  if (meters.length < 2)
    refuse('bad-meter', at.meter(meters.length), 'the prime time and memory meters (#1, #2) are missing');

  // ---- pages and devices
  prev = 0;
  /** Indexes of the key pages in `objects`, for the key checks below. */
  const keyPages: number[] = [];
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i]!;
    checkId(o.id, prev, i, 'object');
    prev = o.id;
    if (!isU32(o.version))
      refuse('bad-object', at.object(i, 'version'), `object #${o.id} version ${o.version} is not a u32`);
    switch (o.kind) {
      case ObjectKind.dataPage:
      case ObjectKind.keyPage: {
        const size = o.kind === ObjectKind.dataPage ? o.words.length : o.slots.length;
        if (size > maxPageSize(o.kind)) checkPageSize(o.kind, size, at.object(i, 'size'));
        const mi = findIndex(meters, o.meter, meters.length);
        if (mi < 0 || meters[mi]!.resource !== Resource.memory)
          refuse(
            'bad-object',
            at.object(i, 'meter'),
            `page #${o.id} is charged to #${o.meter}, which is not a memory meter`,
          );
        if (o.kind === ObjectKind.keyPage) {
          keyPages.push(i);
          if (!isU32(o.resumeGen))
            refuse(
              'bad-object',
              at.object(i, 'resumeGen'),
              `key page #${o.id} resume generation ${o.resumeGen} is not a u32`,
            );
          if (o.isDomain && size < SPECIAL_SLOTS)
            refuse(
              'bad-domain',
              at.object(i, 'size'),
              `domain #${o.id} has ${size} slots, fewer than ${SPECIAL_SLOTS}`,
            );
        }
        break;
      }
      case ObjectKind.device: {
        if (!Number.isInteger(o.deviceType) || o.deviceType < 0 || o.deviceType > 0x7fff_ffff)
          refuse(
            'bad-object',
            at.object(i, 'deviceType'),
            `device #${o.id} type ${o.deviceType} is not in 0..2^31-1`,
          );
        const t = o.transcript;
        for (let j = 0; j < t.length; j++)
          if (!isI32(t[j]!))
            refuse(
              'bad-object',
              at.object(i, 'transcript', j),
              `device #${o.id} transcript word ${t[j]} is not an int32`,
            );
        break;
      }
      default:
        refuse(
          'bad-object',
          at.object(i),
          `object #${(o as ObjectRecord).id} has unknown kind ${(o as ObjectRecord).kind}`,
        );
    }
  }

  // ---- keys
  const checkKey = (k: KeyRecord, where: () => Where): void => {
    const { kind, target, version, value } = k;
    if (kind === KeyKind.null) {
      if (target !== 0 || version !== 0 || value !== 0)
        refuse('bad-key', where(), 'a null key carries fields');
      return;
    }
    if (kind === KeyKind.number) {
      if (target !== 0 || version !== 0) refuse('bad-key', where(), 'a number key carries a target');
      if (!isI32(value)) refuse('bad-key', where(), `number key value ${value} is not an int32`);
      return;
    }
    const name = KIND_WORDS[kind];
    if (name === undefined || !Number.isInteger(kind))
      refuse('bad-key', where(), `key kind ${kind} is unknown`);
    const t = byId.get(target);
    if (t === undefined)
      refuse('dangling-key', where(), `${name} key to #${target}, which the image does not hold`);
    const rec = t.rec;
    let fits: boolean;
    switch (kind) {
      case KeyKind.page:
      case KeyKind.readPage:
        fits = t.kind === 'object' && t.rec.kind !== ObjectKind.device;
        break;
      case KeyKind.domain:
      case KeyKind.resume:
        fits = t.kind === 'object' && t.rec.kind === ObjectKind.keyPage && t.rec.isDomain;
        break;
      case KeyKind.meter:
        fits = t.kind === 'meter';
        break;
      default:
        fits = t.kind === 'object' && t.rec.kind === ObjectKind.device;
    }
    if (!fits)
      refuse('wrong-kind', where(), `${name} key to #${target}, which is not an object it can designate`);
    if (version !== rec.version)
      refuse(
        'forged-version',
        where(),
        `${name} key to #${target} has version ${version}, the object ${rec.version}`,
      );
    if (kind === KeyKind.resume) {
      if (value !== (rec as { resumeGen: number }).resumeGen)
        refuse(
          'forged-version',
          where(),
          `resume key to #${target} has generation ${value}, the domain ${(rec as { resumeGen: number }).resumeGen}`,
        );
    } else if (kind === KeyKind.meter) {
      if (value !== MeterRights.use && value !== MeterRights.control)
        refuse('bad-key', where(), `meter key rights ${value} are not 0 (use) or 1 (control)`);
    } else if (value !== 0) refuse('bad-key', where(), `${name} key carries value ${value}`);
  };
  /** The kind of the object a (checked, non-null) key designates, for slot rules. */
  const meterResource = (k: KeyRecord): number => (byId.get(k.target)!.rec as MeterRecord).resource;

  for (let i = 0; i < meters.length; i++) {
    const keeper = meters[i]!.keeper;
    checkKey(keeper, () => at.keeper(i));
    if (keeper.kind !== KeyKind.null && keeper.kind !== KeyKind.domain)
      refuse(
        'wrong-kind',
        at.keeper(i),
        `meter #${meters[i]!.id} keeper is a ${KIND_WORDS[keeper.kind]} key, not a domain key`,
      );
  }
  for (const i of keyPages) {
    const o = objects[i] as KeyPageRecord;
    const slots = o.slots;
    for (let s = 0; s < slots.length; s++) checkKey(slots[s]!, () => at.slot(i, s));
    if (o.isDomain) checkDomainSlots(o.id, slots, (s) => at.slot(i, s), meterResource);
  }

  const domainState = (id: number): number | undefined => {
    const t = byId.get(id);
    if (t === undefined || t.kind !== 'object' || t.rec.kind !== ObjectKind.keyPage || !t.rec.isDomain)
      return undefined;
    return t.rec.slots[DomainSlot.STATE]!.value;
  };
  checkKernel(model, at, domainState);
}

const STATE_COUNT = Object.keys(DomainState).length;

/** A domain's special slots follow core's layout rules (`domainSlotProblem`); STATE names a state. */
function checkDomainSlots(
  id: number,
  slots: readonly KeyRecord[],
  at: (slot: number) => Where,
  meterResource: (k: KeyRecord) => number,
): void {
  for (let s = 0; s < SPECIAL_SLOTS; s++) {
    const k = slots[s]!;
    const problem = domainSlotProblem(s, k.kind, k.kind === KeyKind.meter ? meterResource(k) : undefined);
    if (problem !== undefined) refuse('bad-domain', at(s), `domain #${id}: ${problem}`);
  }
  const state = slots[DomainSlot.STATE]!.value;
  if (state < 0 || state >= STATE_COUNT)
    refuse('bad-domain', at(DomainSlot.STATE), `domain #${id} STATE ${state} is not a domain state`);
}

const FAULT_CODES = new Set<number>(FAULT_TABLE.map((f) => f.code));

/** Whether a domain in this state belongs in the run queue (the scheduler drops any other). */
export const isQueuedState = (state: number | undefined): boolean =>
  state === DomainState.running || state === DomainState.blocked;

function checkKernel(model: ImageModel, at: Locator, domainState: (id: number) => number | undefined): void {
  const k = model.kernel;
  const domainOrZero = (field: 'root' | 'active' | 'runQueue', id: number, index?: number): void => {
    if (id !== 0 && domainState(id) === undefined)
      refuse('bad-kernel', at.kernel(field, index), `kernel ${field} #${id} is not 0 or a domain`);
  };
  domainOrZero('root', k.root);
  domainOrZero('active', k.active);
  const seen = new Set<number>();
  for (let i = 0; i < k.runQueue.length; i++) {
    const id = k.runQueue[i]!;
    domainOrZero('runQueue', id, i);
    // A queued domain that cannot run would cost the scheduler a look at every step it is passed over.
    if (id === 0 || !isQueuedState(domainState(id)))
      refuse(
        'bad-kernel',
        at.kernel('runQueue', i),
        `queued domain #${id} is ${id === 0 ? 'no domain' : `in state ${DOMAIN_STATE_NAMES[domainState(id)!] ?? domainState(id)}`}, not running or blocked`,
      );
    if (seen.has(id)) refuse('bad-kernel', at.kernel('runQueue', i), `domain #${id} is queued twice`);
    seen.add(id);
  }
  for (const f of ['steps', 'quantum', 'sliceLeft'] as const)
    if (!isCount(k[f])) refuse('bad-kernel', at.kernel(f), `kernel ${f} ${k[f]} is not a safe integer >= 0`);
  // A time slice of 0 instructions would never let anything run.
  if (k.quantum === 0)
    refuse('bad-kernel', at.kernel('quantum'), 'kernel quantum 0: a time slice must be at least 1');
  if (k.faultCode !== 0 && !FAULT_CODES.has(k.faultCode))
    refuse(
      'bad-kernel',
      at.kernel('faultCode'),
      `fault code ${k.faultCode} is not 0 or in the fault catalogue`,
    );
  if (!isI32(k.faultPc)) refuse('bad-kernel', at.kernel('faultPc'), `fault pc ${k.faultPc} is not an int32`);
  if (!Number.isInteger(k.faultDomain) || k.faultDomain < 0 || k.faultDomain >= model.nextId)
    refuse(
      'bad-kernel',
      at.kernel('faultDomain'),
      `fault domain #${k.faultDomain} is not an id below nextId`,
    );
}
