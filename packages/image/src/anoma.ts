// The Anoma virtual-machine interface (seed 001): encode / decode between KeyVM
// values and programs and Anoma's DataValue tree; exact inverses of each other.

/** An Anoma function value: a body meant for the virtual machine numbered `vm`. */
export interface FunctionV {
  readonly kind: 'function';
  readonly vm: number;
  readonly body: DataValue;
}

/** Anoma's DataValue: natural numbers, byte strings, lists, and functions tagged with a VM number. */
export type DataValue =
  | { readonly kind: 'nat'; readonly value: bigint }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'list'; readonly items: readonly DataValue[] }
  | FunctionV;

/**
 * KeyVM's number in Anoma's multiformat of virtual machines ('KVM' in ASCII).
 * Provisional: not yet registered with Anoma.
 */
export const KEYVM_VM_NUMBER = 0x4b564d;

/** A KeyVM program: its code words and its initial data words. */
export interface Program {
  readonly code: Int32Array;
  readonly data: Int32Array;
}

/** A function for another VM: kept as data, not runnable here (the seed's rule). */
export interface ForeignFunction {
  readonly foreign: FunctionV;
}

/** KeyVM's internal representation (VM_n.t): words, lists, programs, foreign functions. */
export type VmValue = number | readonly VmValue[] | Program | ForeignFunction;

const TWO_32 = 1n << 32n;

function wordsToBytes(words: Int32Array): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < words.length; i++) dv.setInt32(4 * i, words[i]!, true);
  return out;
}

function bytesToWords(bytes: Uint8Array): Int32Array | undefined {
  if (bytes.length % 4 !== 0) return undefined;
  const words = new Int32Array(bytes.length / 4);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < words.length; i++) words[i] = dv.getInt32(4 * i, true);
  return words;
}

/**
 * encode_KeyVM: a word becomes the natural number of its unsigned 32 bits; a list a
 * list; a program the FunctionV {vm: KEYVM_VM_NUMBER, body: [bytes(code), bytes(data)]}
 * (little-endian words); a foreign function itself. Throws RangeError on a value
 * that is not a VmValue (a number that is not an int32, a foreign KeyVM function).
 */
export function encodeValue(v: VmValue): DataValue {
  if (typeof v === 'number') {
    if ((v | 0) !== v || Object.is(v, -0)) throw new RangeError(`${v} is not an int32 word`);
    return { kind: 'nat', value: BigInt(v >>> 0) };
  }
  if (Array.isArray(v)) return { kind: 'list', items: v.map(encodeValue) };
  if ('foreign' in v) {
    if (v.foreign.vm === KEYVM_VM_NUMBER)
      throw new RangeError('a foreign function cannot carry KeyVM’s number');
    return v.foreign;
  }
  const p = v as Program;
  return {
    kind: 'function',
    vm: KEYVM_VM_NUMBER,
    body: {
      kind: 'list',
      items: [
        { kind: 'bytes', bytes: wordsToBytes(p.code) },
        { kind: 'bytes', bytes: wordsToBytes(p.data) },
      ],
    },
  };
}

/** Whether `d` is a well-formed DataValue (checked before a foreign function is kept). */
function isDataValue(d: unknown): d is DataValue {
  if (typeof d !== 'object' || d === null) return false;
  const o = d as Record<string, unknown>;
  switch (o.kind) {
    case 'nat':
      return typeof o.value === 'bigint' && o.value >= 0n;
    case 'bytes':
      return o.bytes instanceof Uint8Array;
    case 'list':
      return Array.isArray(o.items) && o.items.every(isDataValue);
    case 'function':
      return Number.isSafeInteger(o.vm) && (o.vm as number) >= 0 && isDataValue(o.body);
    default:
      return false;
  }
}

/**
 * decode_KeyVM: the inverse of encodeValue, or undefined when `d` is not the
 * encoding of any KeyVM value (a number of 2^32 or more, loose bytes, a KeyVM
 * function whose body is not two whole word arrays). A function for another VM
 * is kept as data (ForeignFunction).
 */
export function decodeValue(d: DataValue): VmValue | undefined {
  if (typeof d !== 'object' || d === null) return undefined;
  switch (d.kind) {
    case 'nat':
      return typeof d.value === 'bigint' && d.value >= 0n && d.value < TWO_32
        ? Number(BigInt.asIntN(32, d.value))
        : undefined;
    case 'bytes':
      return undefined;
    case 'list': {
      if (!Array.isArray(d.items)) return undefined;
      const out: VmValue[] = [];
      for (const item of d.items) {
        const v = decodeValue(item);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    }
    case 'function': {
      if (d.vm !== KEYVM_VM_NUMBER) return isDataValue(d) ? { foreign: d } : undefined;
      const body = d.body;
      if (body?.kind !== 'list' || !Array.isArray(body.items) || body.items.length !== 2) return undefined;
      const [c, w] = body.items as [DataValue, DataValue];
      if (c.kind !== 'bytes' || w.kind !== 'bytes') return undefined;
      const code = c.bytes instanceof Uint8Array ? bytesToWords(c.bytes) : undefined;
      const data = w.bytes instanceof Uint8Array ? bytesToWords(w.bytes) : undefined;
      return code && data ? { code, data } : undefined;
    }
    default:
      return undefined;
  }
}
