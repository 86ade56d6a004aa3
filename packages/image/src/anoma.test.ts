// The Anoma interface: encodeValue and decodeValue are exact inverses both ways
// (seed 001), checked with fast-check.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DataValue,
  decodeValue,
  encodeValue,
  type FunctionV,
  KEYVM_VM_NUMBER,
  MAX_VALUE_NODES,
  type VmValue,
} from './anoma.js';

const seed = Number(process.env.KEYVM_SEED ?? 20261121);

const dataValue: fc.Arbitrary<DataValue> = fc.letrec<{ d: DataValue }>((tie) => ({
  d: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.bigInt({ min: 0n, max: 1n << 40n }).map((value): DataValue => ({ kind: 'nat', value })),
    fc.uint8Array({ maxLength: 12 }).map((bytes): DataValue => ({ kind: 'bytes', bytes })),
    fc.array(tie('d'), { maxLength: 4 }).map((items): DataValue => ({ kind: 'list', items })),
    fc
      .record({ vm: fc.oneof(fc.constant(KEYVM_VM_NUMBER), fc.nat()), body: tie('d') })
      .map(({ vm, body }): DataValue => ({ kind: 'function', vm, body })),
  ),
})).d;

const foreign: fc.Arbitrary<FunctionV> = fc
  .record({ vm: fc.nat().filter((n) => n !== KEYVM_VM_NUMBER), body: dataValue })
  .map(({ vm, body }) => ({ kind: 'function', vm, body }));

const words = fc
  .array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 8 })
  .map((a) => Int32Array.from(a));

const vmValue: fc.Arbitrary<VmValue> = fc.letrec<{ v: VmValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.record({ code: words, data: words }),
    foreign.map((f) => ({ foreign: f })),
  ),
})).v;

describe('Anoma encode / decode', () => {
  it('decode(encode(v)) is v, and encode(decode(encode(v))) is encode(v)', () => {
    fc.assert(
      fc.property(vmValue, (v) => {
        const d = encodeValue(v);
        expect(decodeValue(d)).toEqual(v);
        expect(encodeValue(decodeValue(d)!)).toEqual(d);
      }),
      { seed, numRuns: 1000 },
    );
  });

  it('encode(decode(d)) is d whenever d decodes', () => {
    fc.assert(
      fc.property(fc.oneof(dataValue, vmValue.map(encodeValue)), (d) => {
        const v = decodeValue(d);
        if (v !== undefined) expect(encodeValue(v)).toEqual(d);
      }),
      { seed, numRuns: 1000 },
    );
  });

  it('tags programs with KeyVM’s number and keeps other VMs’ functions as data', () => {
    const program = { code: Int32Array.of(1, -1), data: Int32Array.of() };
    const d = encodeValue(program) as FunctionV;
    expect(d.vm).toBe(KEYVM_VM_NUMBER);
    expect(d.body).toEqual({
      kind: 'list',
      items: [
        { kind: 'bytes', bytes: Uint8Array.of(1, 0, 0, 0, 255, 255, 255, 255) },
        { kind: 'bytes', bytes: new Uint8Array(0) },
      ],
    });
    const other: DataValue = { kind: 'function', vm: 7, body: { kind: 'nat', value: 3n } };
    expect(decodeValue(other)).toEqual({ foreign: other });
    expect(encodeValue(-1)).toEqual({ kind: 'nat', value: 0xffffffffn });
  });

  it('refuses what is not an encoding of a KeyVM value', () => {
    expect(decodeValue({ kind: 'nat', value: 1n << 32n })).toBeUndefined();
    expect(decodeValue({ kind: 'nat', value: -1n })).toBeUndefined();
    expect(decodeValue({ kind: 'bytes', bytes: new Uint8Array(4) })).toBeUndefined();
    const bad: DataValue = {
      kind: 'list',
      items: [
        { kind: 'bytes', bytes: new Uint8Array(3) },
        { kind: 'bytes', bytes: new Uint8Array(0) },
      ],
    };
    expect(decodeValue({ kind: 'function', vm: KEYVM_VM_NUMBER, body: bad })).toBeUndefined();
    expect(() => encodeValue(2 ** 31)).toThrow(RangeError);
    expect(() => encodeValue(1.5)).toThrow(RangeError);
  });

  it('handles values nested far deeper than the call stack, both ways', () => {
    const DEPTH = 50_000; // the call stack holds about 10,000 frames
    let v: VmValue = [7];
    for (let i = 0; i < DEPTH; i++) v = [v];
    const d = encodeValue(v);
    let depth = 0;
    for (let n: DataValue = d; n.kind === 'list' && n.items.length > 0; n = n.items[0]!) depth++;
    expect(depth).toBe(DEPTH + 1);
    let back = decodeValue(d) as VmValue;
    for (let i = 0; i < DEPTH; i++) back = (back as VmValue[])[0]!;
    expect(back).toEqual([7]);
    // A deep foreign function body is checked without recursion too.
    let body: DataValue = { kind: 'nat', value: 1n };
    for (let i = 0; i < DEPTH; i++) body = { kind: 'function', vm: 9, body };
    expect((decodeValue(body) as { foreign: DataValue }).foreign).toBe(body);
  });

  it('refuses cyclic values with a clear error, not a stack overflow', () => {
    const loop: VmValue[] = [1, 2];
    loop.push([3, loop]);
    expect(() => encodeValue(loop)).toThrow(/the value is cyclic: a list contains itself \(at depth 2\)/);
    const items: DataValue[] = [{ kind: 'nat', value: 1n }];
    const cycle: DataValue = { kind: 'list', items };
    items.push(cycle);
    expect(() => decodeValue(cycle)).toThrow(/the data value is cyclic/);
    const fn = { kind: 'function', vm: 9, body: { kind: 'nat', value: 0n } } as { body: unknown };
    fn.body = fn;
    expect(() => decodeValue(fn as DataValue)).toThrow(/cyclic/);
    // Shared but not cyclic is fine: a list may hold the same list twice.
    const shared: VmValue = [1];
    expect(decodeValue(encodeValue([shared, shared]))).toEqual([[1], [1]]);
  });

  it('refuses a value that unfolds into more than MAX_VALUE_NODES nodes', () => {
    // 2^40 leaves from 40 lists, each holding the one below twice: refused after MAX_VALUE_NODES.
    let v: VmValue = [0];
    for (let i = 0; i < 40; i++) v = [v, v];
    expect(() => encodeValue(v)).toThrow(new RegExp(`more than ${MAX_VALUE_NODES} nodes`));
  });
});
