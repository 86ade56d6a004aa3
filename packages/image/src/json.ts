// The JSON form of an image, for people and tools: the same model as the binary
// form with names instead of numbers. Import shape-checks it, then runs the one
// validator; errors carry a JSON path such as `$.objects[3].slots[5]`.
import { type KernelState, KeyKind, ObjectKind, Resource, type Store, UNLIMITED } from '@keyvm/core';
import { type ImageSection, refuse, type Where } from './errors.js';
import {
  type ImageModel,
  type KeyRecord,
  type MeterRecord,
  modelFromStore,
  type ObjectRecord,
  storeFromModel,
} from './model.js';
import { checkPageSize, isI32, type Locator, validateModel } from './validate.js';

export type KeyKindName = keyof typeof KeyKind;
export type ResourceName = keyof typeof Resource;

export interface KeyJson {
  kind: KeyKindName;
  target: number;
  version: number;
  value: number;
}
export interface MeterJson {
  id: number;
  version: number;
  resource: ResourceName;
  /** Parent meter id; 0 for the prime meters. */
  parent: number;
  remaining: number | 'unlimited';
  keeper: KeyJson;
}
export interface DataPageJson {
  kind: 'dataPage';
  id: number;
  version: number;
  meter: number;
  words: number[];
}
export interface KeyPageJson {
  kind: 'keyPage';
  id: number;
  version: number;
  meter: number;
  isDomain: boolean;
  resumeGen: number;
  slots: KeyJson[];
}
export interface DeviceJson {
  kind: 'device';
  id: number;
  version: number;
  deviceType: number;
  transcript: number[];
}
export type ObjectJson = DataPageJson | KeyPageJson | DeviceJson;

/** The JSON form: plain data, deterministic, `JSON.stringify`-able. */
export interface ImageJson {
  format: 'keyvm-image';
  version: number;
  nextId: number;
  meters: MeterJson[];
  objects: ObjectJson[];
  kernel: KernelState;
}

export const IMAGE_JSON_FORMAT = 'keyvm-image';
/** The JSON form's version; it moves with the binary format version. */
const JSON_VERSION = 1;

const KEY_KIND_NAMES = Object.keys(KeyKind) as KeyKindName[];
const RESOURCE_NAMES = Object.keys(Resource) as ResourceName[];

/** Locations as JSON paths into the JSON form of a model (also used for stores being encoded). */
export function pathLocator(model: ImageModel): Locator {
  const sizeField = (i: number): string => {
    const o = model.objects[i];
    return o?.kind === ObjectKind.dataPage ? 'words' : o?.kind === ObjectKind.device ? 'transcript' : 'slots';
  };
  const path = (section: ImageSection, p: string): Where => ({ section, offset: p });
  return {
    nextId: () => path('header', '$.nextId'),
    meter: (i, field) => path('meters', `$.meters[${i}]${field ? `.${field}` : ''}`),
    object: (i, field, index) => {
      const f = field === 'size' ? sizeField(i) : field;
      return path('objects', `$.objects[${i}]${f ? `.${f}` : ''}${index === undefined ? '' : `[${index}]`}`);
    },
    keeper: (i) => path('keys', `$.meters[${i}].keeper`),
    slot: (i, s) => path('keys', `$.objects[${i}].slots[${s}]`),
    kernel: (field, index) => path('kernel', `$.kernel.${field}${index === undefined ? '' : `[${index}]`}`),
  };
}

/** Locator used when a store is validated before encoding. */
export const storeLocator: Locator = pathLocator({
  nextId: 0,
  meters: [],
  objects: [],
  kernel: {} as KernelState,
});

const keyToJson = (k: KeyRecord): KeyJson => ({
  kind: KEY_KIND_NAMES[k.kind]!,
  target: k.target,
  version: k.version,
  value: k.value,
});

/** The JSON form of a store (validated with the decoder's rules first, like encodeImage). */
export function imageToJson(store: Store): ImageJson {
  const model = modelFromStore(store);
  validateModel(model, pathLocator(model));
  return {
    format: IMAGE_JSON_FORMAT,
    version: JSON_VERSION,
    nextId: model.nextId,
    meters: model.meters.map((m) => ({
      id: m.id,
      version: m.version,
      resource: RESOURCE_NAMES[m.resource]!,
      parent: m.parent,
      remaining: m.remaining === UNLIMITED ? 'unlimited' : m.remaining,
      keeper: keyToJson(m.keeper),
    })),
    objects: model.objects.map((o): ObjectJson => {
      switch (o.kind) {
        case ObjectKind.dataPage:
          return {
            kind: 'dataPage',
            id: o.id,
            version: o.version,
            meter: o.meter,
            words: Array.from(o.words),
          };
        case ObjectKind.keyPage:
          return {
            kind: 'keyPage',
            id: o.id,
            version: o.version,
            meter: o.meter,
            isDomain: o.isDomain,
            resumeGen: o.resumeGen,
            slots: o.slots.map(keyToJson),
          };
        default:
          return {
            kind: 'device',
            id: o.id,
            version: o.version,
            deviceType: o.deviceType,
            transcript: [...o.transcript],
          };
      }
    }),
    kernel: { ...model.kernel, runQueue: [...model.kernel.runQueue] },
  };
}

// ---- import ---------------------------------------------------------------------------

type Json = Record<string, unknown>;

function shape(section: ImageSection, path: string, reason: string): never {
  refuse('bad-json', { section, offset: path }, reason);
}

/** An object with exactly these fields. */
function record(v: unknown, fields: readonly string[], section: ImageSection, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) shape(section, path, 'expected an object');
  const o = v as Json;
  for (const f of fields) if (!Object.hasOwn(o, f)) shape(section, `${path}.${f}`, 'missing');
  for (const f of Object.keys(o)) if (!fields.includes(f)) shape(section, `${path}.${f}`, 'unknown field');
  return o;
}

function num(o: Json, f: string, section: ImageSection, path: string): number {
  const v = o[f];
  if (typeof v !== 'number' || !Number.isFinite(v))
    shape(section, `${path}.${f}`, 'expected a finite number');
  return v;
}

function list(o: Json, f: string, section: ImageSection, path: string): unknown[] {
  const v = o[f];
  if (!Array.isArray(v)) shape(section, `${path}.${f}`, 'expected an array');
  return v;
}

function int32s(v: unknown[], section: ImageSection, path: string): number[] {
  for (let i = 0; i < v.length; i++)
    if (typeof v[i] !== 'number' || !isI32(v[i] as number))
      shape(section, `${path}[${i}]`, 'expected an int32');
  return v as number[];
}

function oneOf<T extends string>(
  o: Json,
  f: string,
  names: readonly T[],
  section: ImageSection,
  path: string,
): number {
  const i = names.indexOf(o[f] as T);
  if (i < 0) shape(section, `${path}.${f}`, `expected one of ${names.join(', ')}`);
  return i;
}

const KEY_FIELDS = ['kind', 'target', 'version', 'value'] as const;
function keyFromJson(v: unknown, path: string): KeyRecord {
  const o = record(v, KEY_FIELDS, 'keys', path);
  return Object.freeze({
    kind: oneOf(o, 'kind', KEY_KIND_NAMES, 'keys', path),
    target: num(o, 'target', 'keys', path),
    version: num(o, 'version', 'keys', path),
    value: num(o, 'value', 'keys', path),
  });
}

const KERNEL_FIELDS = [
  'root',
  'active',
  'runQueue',
  'steps',
  'quantum',
  'sliceLeft',
  'faultCode',
  'faultPc',
  'faultDomain',
] as const;

/**
 * The store a JSON form describes (an ImageJson, or anything JSON.parse returned).
 * Shape errors are 'bad-json'; everything else is checked by the same validator as
 * the binary decoder, so both forms accept exactly the same machines.
 */
export function imageFromJson(json: unknown): Store {
  const top = record(json, ['format', 'version', 'nextId', 'meters', 'objects', 'kernel'], 'header', '$');
  if (top.format !== IMAGE_JSON_FORMAT) shape('header', '$.format', `expected "${IMAGE_JSON_FORMAT}"`);
  if (top.version !== JSON_VERSION)
    refuse(
      'bad-version',
      { section: 'header', offset: '$.version' },
      `version ${String(top.version)}; this reads ${JSON_VERSION}`,
    );
  const nextId = num(top, 'nextId', 'header', '$');

  const meters = list(top, 'meters', 'meters', '$').map((v, i): MeterRecord => {
    const path = `$.meters[${i}]`;
    const o = record(v, ['id', 'version', 'resource', 'parent', 'remaining', 'keeper'], 'meters', path);
    return {
      id: num(o, 'id', 'meters', path),
      version: num(o, 'version', 'meters', path),
      resource: oneOf(o, 'resource', RESOURCE_NAMES, 'meters', path),
      parent: num(o, 'parent', 'meters', path),
      remaining: o.remaining === 'unlimited' ? UNLIMITED : num(o, 'remaining', 'meters', path),
      keeper: keyFromJson(o.keeper, `${path}.keeper`),
    };
  });

  const objects = list(top, 'objects', 'objects', '$').map((v, i): ObjectRecord => {
    const path = `$.objects[${i}]`;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) shape('objects', path, 'expected an object');
    const kind = (v as Json).kind;
    if (kind === 'dataPage') {
      const o = record(v, ['kind', 'id', 'version', 'meter', 'words'], 'objects', path);
      const words = list(o, 'words', 'objects', path);
      checkPageSize(ObjectKind.dataPage, words.length, { section: 'objects', offset: `${path}.words` });
      return {
        kind: ObjectKind.dataPage,
        id: num(o, 'id', 'objects', path),
        version: num(o, 'version', 'objects', path),
        meter: num(o, 'meter', 'objects', path),
        words: Int32Array.from(int32s(words, 'objects', `${path}.words`)),
      };
    }
    if (kind === 'keyPage') {
      const o = record(
        v,
        ['kind', 'id', 'version', 'meter', 'isDomain', 'resumeGen', 'slots'],
        'objects',
        path,
      );
      if (typeof o.isDomain !== 'boolean') shape('objects', `${path}.isDomain`, 'expected a boolean');
      const slots = list(o, 'slots', 'objects', path);
      checkPageSize(ObjectKind.keyPage, slots.length, { section: 'objects', offset: `${path}.slots` });
      return {
        kind: ObjectKind.keyPage,
        id: num(o, 'id', 'objects', path),
        version: num(o, 'version', 'objects', path),
        meter: num(o, 'meter', 'objects', path),
        isDomain: o.isDomain,
        resumeGen: num(o, 'resumeGen', 'objects', path),
        slots: slots.map((k, s) => keyFromJson(k, `${path}.slots[${s}]`)),
      };
    }
    if (kind === 'device') {
      const o = record(v, ['kind', 'id', 'version', 'deviceType', 'transcript'], 'objects', path);
      return {
        kind: ObjectKind.device,
        id: num(o, 'id', 'objects', path),
        version: num(o, 'version', 'objects', path),
        deviceType: num(o, 'deviceType', 'objects', path),
        transcript: [...int32s(list(o, 'transcript', 'objects', path), 'objects', `${path}.transcript`)],
      };
    }
    return shape('objects', `${path}.kind`, 'expected "dataPage", "keyPage" or "device"');
  });

  const k = record(top.kernel, KERNEL_FIELDS, 'kernel', '$.kernel');
  const queue = list(k, 'runQueue', 'kernel', '$.kernel');
  for (let i = 0; i < queue.length; i++)
    if (typeof queue[i] !== 'number') shape('kernel', `$.kernel.runQueue[${i}]`, 'expected a number');
  const kernel: KernelState = {
    root: num(k, 'root', 'kernel', '$.kernel'),
    active: num(k, 'active', 'kernel', '$.kernel'),
    runQueue: [...(queue as number[])],
    steps: num(k, 'steps', 'kernel', '$.kernel'),
    quantum: num(k, 'quantum', 'kernel', '$.kernel'),
    sliceLeft: num(k, 'sliceLeft', 'kernel', '$.kernel'),
    faultCode: num(k, 'faultCode', 'kernel', '$.kernel'),
    faultPc: num(k, 'faultPc', 'kernel', '$.kernel'),
    faultDomain: num(k, 'faultDomain', 'kernel', '$.kernel'),
  };

  const model: ImageModel = { nextId, meters, objects, kernel };
  validateModel(model, pathLocator(model));
  return storeFromModel(model);
}
