// Keys: immutable values naming what they designate and what they permit. A guest
// names a key only by its slot number; only the store makes keys to objects.

export const KeyKind = Object.freeze({
  null: 0,
  number: 1,
  page: 2,
  readPage: 3,
  domain: 4,
  resume: 5,
  meter: 6,
  device: 7,
} as const);
export type KeyKind = (typeof KeyKind)[keyof typeof KeyKind];

/** Human names by kind number, as KEYTYPE reports them. */
export const KEY_KIND_NAMES = Object.freeze([
  'null',
  'number',
  'page',
  'read-only page',
  'domain',
  'resume',
  'meter',
  'device',
] as const);

/** Rights bits carried in a meter key's `value`. */
export const MeterRights = Object.freeze({ use: 0, control: 1 } as const);

/**
 * A key. `target` is the designated object's id (0 for null and number keys),
 * `version` the object's version when the key was made (a stale version reads as
 * null), and `value` the kind's extra word: the number of a number key, the
 * generation of a resume key, the rights bits of a meter key, otherwise 0.
 */
export interface Key {
  readonly kind: KeyKind;
  readonly target: number;
  readonly version: number;
  readonly value: number;
}

/** The null key: designates nothing, permits nothing. */
export const NULL_KEY: Key = Object.freeze({ kind: KeyKind.null, target: 0, version: 0, value: 0 });

const SMALL_NUMBERS: readonly Key[] = Array.from({ length: 1024 }, (_, i) =>
  Object.freeze({ kind: KeyKind.number, target: 0, version: 0, value: i }),
);

/** A number key: carries one 32-bit word and designates nothing. */
export function numberKey(word: number): Key {
  const v = word | 0;
  // Small enough that V8 inlines it on the domain-switch path, which writes two.
  return v >= 0 && v < 1024 ? SMALL_NUMBERS[v]! : largeNumberKey(v);
}

/**
 * The number keys beyond SMALL_NUMBERS made last, by their low bits: code that
 * writes the same large word again and again (a domain's IP at a CALL past word
 * 1024, on every call) gets the same key each time rather than a new one, which V8
 * would have to track as a young object in an old slot array. Keys are values, so
 * which object carries one is never observable.
 */
const RECENT_NUMBERS: (Key | undefined)[] = new Array<Key | undefined>(1024).fill(undefined);

function largeNumberKey(v: number): Key {
  const i = v & 1023;
  const recent = RECENT_NUMBERS[i];
  if (recent !== undefined && recent.value === v) return recent;
  const k = Object.freeze({ kind: KeyKind.number, target: 0, version: 0, value: v });
  RECENT_NUMBERS[i] = k;
  return k;
}

/** Make a key value (store-internal and for image decoding; guests never call it). */
export function makeKey(kind: KeyKind, target: number, version: number, value = 0): Key {
  if (kind === (0 satisfies typeof KeyKind.null)) return NULL_KEY;
  if (kind === (1 satisfies typeof KeyKind.number)) return numberKey(value);
  return { kind, target, version, value };
}

/** Structural equality of two keys. */
export function keysEqual(a: Key, b: Key): boolean {
  return a.kind === b.kind && a.target === b.target && a.version === b.version && a.value === b.value;
}

/** A short description for traces and inspection, e.g. `page#12v0`. */
export function describeKey(k: Key): string {
  switch (k.kind) {
    case KeyKind.null:
      return 'null';
    case KeyKind.number:
      return `number(${k.value})`;
    case KeyKind.meter:
      return `meter#${k.target}v${k.version}${k.value & MeterRights.control ? '' : '(use)'}`;
    case KeyKind.resume:
      return `resume#${k.target}v${k.version}g${k.value}`;
    default:
      return `${KEY_KIND_NAMES[k.kind]?.replace(' ', '-') ?? 'key'}#${k.target}v${k.version}`;
  }
}
