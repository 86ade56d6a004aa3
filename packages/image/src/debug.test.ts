import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { richStore, tinyStore } from './fixtures.test-helpers.js';
import {
  attachDebugInfo,
  decodeImage,
  encodeImage,
  type ImageDebugInfo,
  ImageError,
  imageDebugInfo,
  imageHash,
  splitImage,
} from './index.js';
import { compressImage, decompressImage } from './node.js';

const info: ImageDebugInfo = {
  programs: [
    {
      codePage: 3,
      dataPage: 0,
      files: [{ name: 'prog.ism', text: 'PUSH 1\nHALT\n' }, { name: 'lib.ism' }],
      labels: [
        { name: 'start', address: 0, section: 'code' },
        { name: 'msg', address: 0, section: 'data' },
      ],
      sourceMap: [
        { pc: 0, line: 1, col: 1 },
        { pc: 2, line: 4, col: 3, file: 1 },
      ],
    },
  ],
};

const refusal = (f: () => unknown): ImageError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    return e as ImageError;
  }
  return expect.unreachable();
};

describe('the optional debug section', () => {
  it('rides after the state: the state, its hash and the machine are unchanged', () => {
    const state = encodeImage(richStore());
    const file = attachDebugInfo(state, info);
    expect(file.length).toBeGreaterThan(state.length);
    expect(imageHash(file)).toBe(imageHash(state));
    expect(encodeImage(decodeImage(file))).toEqual(state);
    expect(encodeImage(decodeImage(file, { adopt: true }))).toEqual(state);
    expect(imageDebugInfo(file)).toEqual(info);
    expect(imageDebugInfo(state)).toBeUndefined();
    expect(splitImage(file).state).toEqual(state);
  });

  it('is written canonically: the same info gives the same bytes whatever the order given', () => {
    const state = encodeImage(tinyStore());
    const two: ImageDebugInfo = { programs: [{ ...info.programs[0]!, codePage: 9 }, info.programs[0]!] };
    const swapped: ImageDebugInfo = { programs: [...two.programs].reverse() };
    expect(attachDebugInfo(state, two)).toEqual(attachDebugInfo(state, swapped));
  });

  it('survives compression', () => {
    const file = attachDebugInfo(encodeImage(richStore()), info);
    const unpacked = decompressImage(compressImage(file));
    expect(new Uint8Array(unpacked)).toEqual(file);
    expect(imageDebugInfo(unpacked)).toEqual(info);
  });

  it('counts toward maxImageBytes: a file larger in all is refused with limit before the section is read', () => {
    const state = encodeImage(richStore());
    const file = attachDebugInfo(state, info);
    const limits = { maxImageBytes: file.length - 1 };
    expect(encodeImage(decodeImage(state, { limits }))).toEqual(state);
    const e = refusal(() => decodeImage(file, { limits }));
    expect(e.code).toBe('limit');
    expect({ section: e.section, offset: e.offset }).toEqual({ section: 'debug', offset: state.length });
    expect(refusal(() => splitImage(file, limits)).code).toBe('limit');
    expect(encodeImage(decodeImage(file, { limits: { maxImageBytes: file.length } }))).toEqual(state);
    // Compressed, it unpacks no further than the limit allows.
    const packed = compressImage(file);
    expect(new Uint8Array(decompressImage(packed, file.length))).toEqual(file);
    expect(refusal(() => decompressImage(packed, file.length - 1)).code).toBe('bad-compression');
    expect(refusal(() => decompressImage(packed, undefined, limits)).code).toBe('bad-compression');
  });

  it('refuses a damaged, cut or ill-shaped section with bad-debug-info and where', () => {
    const state = encodeImage(tinyStore());
    const file = attachDebugInfo(state, info);
    const flipped = file.slice();
    flipped[state.length + 20]! ^= 1;
    const damaged = refusal(() => decodeImage(flipped));
    expect([damaged.code, damaged.section]).toEqual(['bad-debug-info', 'debug']);
    expect(damaged.reason).toMatch(/checksum/);
    const cut = refusal(() => decodeImage(file.subarray(0, file.length - 1)));
    expect(cut.code).toBe('bad-debug-info');
    expect(cut.offset).toBe(state.length + 12);
    const tooShort = refusal(() => decodeImage(file.subarray(0, state.length + 10)));
    expect(tooShort.code).toBe('bad-debug-info');
    // Bytes after the state that are not a debug section stay trailing bytes.
    const junk = new Uint8Array(state.length + 3);
    junk.set(state);
    expect(refusal(() => decodeImage(junk)).code).toBe('trailing-bytes');
    // Shapes are checked: an entry naming a file that is not listed, pcs out of order.
    const badFile = {
      programs: [{ ...info.programs[0]!, sourceMap: [{ pc: 0, line: 1, col: 1, file: 5 }] }],
    };
    expect(refusal(() => attachDebugInfo(state, badFile)).reason).toMatch(/names no file/);
    const badOrder = {
      programs: [
        {
          ...info.programs[0]!,
          sourceMap: [
            { pc: 4, line: 1, col: 1 },
            { pc: 2, line: 1, col: 1 },
          ],
        },
      ],
    };
    expect(refusal(() => attachDebugInfo(state, badOrder)).reason).toMatch(/not after/);
  });
});

describe('a damaged debug section (fuzzed)', () => {
  const seed = Number(process.env.KEYVM_SEED ?? 1616);
  console.log(`debug section fuzz: seed ${seed} (set KEYVM_SEED to replay another)`);
  const state = encodeImage(tinyStore());
  const file = attachDebugInfo(state, info);

  it('loads the same machine or is refused with an ImageError, never anything else', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(file.length - state.length - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(40),
        (flips, cut) => {
          const bytes = file.slice(0, file.length - (cut < 30 ? 0 : cut));
          for (const [at, x] of flips) if (state.length + at < bytes.length) bytes[state.length + at]! ^= x;
          try {
            const store = decodeImage(bytes);
            expect(encodeImage(store)).toEqual(state);
          } catch (e) {
            expect(e).toBeInstanceOf(ImageError);
            expect(['bad-debug-info', 'trailing-bytes']).toContain((e as ImageError).code);
          }
        },
      ),
      { seed, numRuns: 2000 },
    );
  });
});
