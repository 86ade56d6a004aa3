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
 * Most nodes (words, lists, programs, functions, byte strings) encodeValue and
 * decodeValue accept: a value that shares one list many times over would otherwise
 * unfold into more than any memory holds. Deep values need no limit of their own:
 * both walk the tree with a stack of their own, not the call stack.
 */
export const MAX_VALUE_NODES = 1 << 20;

/**
 * Walk the tree under `root` without recursion and without building anything:
 * throws a RangeError when a node lies inside itself (cyclic) or when there are
 * more than MAX_VALUE_NODES nodes, before any work proportional to them is done.
 */
function checkTree<S extends object>(
  root: S,
  children: (node: S) => readonly S[] | undefined,
  what: string,
): void {
  let nodes = 1;
  const onPath = new Set<object>([root]);
  const first = children(root);
  if (first === undefined) return;
  const frames: { node: S; kids: readonly S[]; i: number }[] = [{ node: root, kids: first, i: 0 }];
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    if (f.i === f.kids.length) {
      frames.pop();
      onPath.delete(f.node);
      continue;
    }
    const node = f.kids[f.i++]!;
    if (++nodes > MAX_VALUE_NODES)
      throw new RangeError(`the ${what} has more than ${MAX_VALUE_NODES} nodes (MAX_VALUE_NODES)`);
    const kids = typeof node === 'object' && node !== null ? children(node) : undefined;
    if (kids === undefined) continue;
    if (onPath.has(node))
      throw new RangeError(`the ${what} is cyclic: a list contains itself (at depth ${frames.length})`);
    onPath.add(node);
    frames.push({ node, kids, i: 0 });
  }
}

/**
 * Build the tree that `root` maps to, list by list, without recursion (after
 * checkTree): `children` says whether a node is a list (its items) or a leaf,
 * `leaf` maps a leaf, `list` makes the mapped list.
 */
function mapTree<S extends object, T>(
  root: S,
  children: (node: S) => readonly S[] | undefined,
  leaf: (node: S) => T,
  list: (items: T[]) => T,
  what: string,
): T {
  checkTree(root, children, what);
  const top = children(root);
  if (top === undefined) return leaf(root);
  const frames: { src: readonly S[]; items: T[]; i: number }[] = [{ src: top, items: [], i: 0 }];
  for (;;) {
    const f = frames[frames.length - 1]!;
    if (f.i === f.src.length) {
      frames.pop();
      const done = list(f.items);
      if (frames.length === 0) return done;
      frames[frames.length - 1]!.items.push(done);
      continue;
    }
    const node = f.src[f.i++]!;
    const kids = typeof node === 'object' && node !== null ? children(node) : undefined;
    if (kids === undefined) f.items.push(leaf(node));
    else frames.push({ src: kids, items: [], i: 0 });
  }
}

/** A program's encoding: the FunctionV {vm: KEYVM_VM_NUMBER, body: [bytes(code), bytes(data)]}. */
function encodeLeaf(v: VmValue): DataValue {
  if (typeof v === 'number') {
    if ((v | 0) !== v || Object.is(v, -0)) throw new RangeError(`${v} is not an int32 word`);
    return { kind: 'nat', value: BigInt(v >>> 0) };
  }
  if (typeof v !== 'object' || v === null) throw new RangeError(`${String(v)} is not a KeyVM value`);
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

/**
 * encode_KeyVM: a word becomes the natural number of its unsigned 32 bits; a list a
 * list; a program the FunctionV {vm: KEYVM_VM_NUMBER, body: [bytes(code), bytes(data)]}
 * (little-endian words); a foreign function itself. Throws RangeError on a value
 * that is not a VmValue (a number that is not an int32, a foreign KeyVM function),
 * on a cyclic one, and on one of more than MAX_VALUE_NODES nodes. Any depth works.
 */
export function encodeValue(v: VmValue): DataValue {
  return mapTree<VmValue & object, DataValue>(
    v as VmValue & object,
    (node) => (Array.isArray(node) ? (node as (VmValue & object)[]) : undefined),
    (node) => encodeLeaf(node),
    (items) => ({ kind: 'list', items }),
    'value',
  );
}

/** Whether `d` is a well-formed DataValue (checked before a foreign function is kept); cycles throw. */
function isDataValue(d: unknown): d is DataValue {
  if (typeof d !== 'object' || d === null) return false;
  let ok = true;
  // A function's body is walked as a one-item list, so it is checked without recursion too.
  mapTree<object, null>(
    d as object,
    (node) => {
      const o = node as Record<string, unknown>;
      if (o.kind === 'list' && Array.isArray(o.items)) return o.items as object[];
      if (o.kind === 'function' && Number.isSafeInteger(o.vm) && (o.vm as number) >= 0)
        return [o.body as object];
      return undefined;
    },
    (node) => {
      const o = node as Record<string, unknown> | null;
      const fine =
        typeof o === 'object' &&
        o !== null &&
        ((o.kind === 'nat' && typeof o.value === 'bigint' && o.value >= 0n) ||
          (o.kind === 'bytes' && o.bytes instanceof Uint8Array));
      if (!fine) ok = false;
      return null;
    },
    () => null,
    'data value',
  );
  return ok;
}

/** Marks a DataValue that is no encoding of a KeyVM value (decodeValue then answers undefined). */
const NOT_KEYVM: unique symbol = Symbol('not a KeyVM value');

function decodeLeaf(d: DataValue): VmValue | typeof NOT_KEYVM {
  if (typeof d !== 'object' || d === null) return NOT_KEYVM;
  switch (d.kind) {
    case 'nat':
      return typeof d.value === 'bigint' && d.value >= 0n && d.value < TWO_32
        ? Number(BigInt.asIntN(32, d.value))
        : NOT_KEYVM;
    case 'function': {
      if (d.vm !== KEYVM_VM_NUMBER) return isDataValue(d) ? { foreign: d } : NOT_KEYVM;
      const body = d.body;
      if (body?.kind !== 'list' || !Array.isArray(body.items) || body.items.length !== 2) return NOT_KEYVM;
      const [c, w] = body.items as [DataValue, DataValue];
      if (c?.kind !== 'bytes' || w?.kind !== 'bytes') return NOT_KEYVM;
      const code = c.bytes instanceof Uint8Array ? bytesToWords(c.bytes) : undefined;
      const data = w.bytes instanceof Uint8Array ? bytesToWords(w.bytes) : undefined;
      return code && data ? { code, data } : NOT_KEYVM;
    }
    default:
      return NOT_KEYVM; // loose bytes, unknown kinds, a list whose items are not an array
  }
}

/**
 * decode_KeyVM: the inverse of encodeValue, or undefined when `d` is not the
 * encoding of any KeyVM value (a number of 2^32 or more, loose bytes, a KeyVM
 * function whose body is not two whole word arrays). A function for another VM
 * is kept as data (ForeignFunction). A cyclic DataValue, or one of more than
 * MAX_VALUE_NODES nodes, throws a RangeError. Any depth works.
 */
export function decodeValue(d: DataValue): VmValue | undefined {
  if (typeof d !== 'object' || d === null) return undefined;
  let bad = false;
  const v = mapTree<DataValue, VmValue>(
    d,
    (node) => (node.kind === 'list' && Array.isArray(node.items) ? node.items : undefined),
    (node) => {
      const leaf = decodeLeaf(node);
      if (leaf === NOT_KEYVM) {
        bad = true;
        return 0;
      }
      return leaf;
    },
    (items) => items,
    'data value',
  );
  return bad ? undefined : v;
}
