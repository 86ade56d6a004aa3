import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { richStore, tinyStore } from './fixtures.test-helpers.js';
import {
  attachDebugInfo,
  decodeImage,
  encodeDebugSection,
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

/** A debug section written by hand: `payload` as JSON under format `version`, checksummed. */
function handWritten(state: Uint8Array, version: number, payload: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(payload));
  const section = encodeDebugSection({ programs: [] });
  const out = new Uint8Array(state.length + 16 + json.length + 4);
  out.set(state);
  out.set(section.subarray(0, 8), state.length);
  const dv = new DataView(out.buffer, state.length);
  dv.setUint32(8, version, true);
  dv.setUint32(12, json.length, true);
  out.set(json, state.length + 16);
  dv.setUint32(16 + json.length, crc32(out.subarray(state.length, state.length + 16 + json.length)), true);
  return out;
}

describe('domain records (debug format version 2)', () => {
  const withDomains: ImageDebugInfo = {
    ...info,
    domains: [
      { domain: 6, codePage: 3, entry: 0 },
      { domain: 12, codePage: 3, entry: 2 },
    ],
  };
  const versionOf = (file: Uint8Array, state: Uint8Array): number =>
    new DataView(file.buffer, file.byteOffset + state.length).getUint32(8, true);

  it('round-trip, written as version 2; without them the section stays version 1', () => {
    const state = encodeImage(richStore());
    const file = attachDebugInfo(state, withDomains);
    expect(versionOf(file, state)).toBe(2);
    expect(imageDebugInfo(file)).toEqual(withDomains);
    expect(imageHash(file)).toBe(imageHash(state));
    expect(encodeImage(decodeImage(file))).toEqual(state);
    const old = attachDebugInfo(state, info);
    expect(versionOf(old, state)).toBe(1);
    expect(imageDebugInfo(old)).toEqual(info);
    expect(imageDebugInfo(old)?.domains).toBeUndefined();
  });

  it('read a version-1 section written by an older writer, and refuse domains in one', () => {
    const state = encodeImage(tinyStore());
    expect(imageDebugInfo(handWritten(state, 1, info))).toEqual(info);
    const v1 = refusal(() => imageDebugInfo(handWritten(state, 1, withDomains)));
    expect([v1.code, v1.reason]).toEqual([
      'bad-debug-info',
      "the debug payload has an unknown field 'domains'",
    ]);
    const v3 = refusal(() => imageDebugInfo(handWritten(state, 3, withDomains)));
    expect(v3.reason).toBe('debug format version 3; this reader reads 1 to 2');
    expect(v3.offset).toBe(state.length + 8);
  });

  it('are checked: order, whole numbers, known fields', () => {
    const state = encodeImage(tinyStore());
    const bad = (domains: unknown): string =>
      refusal(() => imageDebugInfo(handWritten(state, 2, { programs: [], domains }))).reason;
    expect(
      bad([
        { domain: 5, codePage: 3, entry: 0 },
        { domain: 5, codePage: 3, entry: 1 },
      ]),
    ).toBe('domains[1].domain 5 is not after 5');
    expect(bad([{ domain: 5, codePage: 0, entry: 0 }])).toMatch(
      /^domains\[0\]\.codePage must be a whole number from 1/,
    );
    expect(bad([{ domain: 5, codePage: 3, entry: -1 }])).toMatch(
      /^domains\[0\]\.entry must be a whole number/,
    );
    expect(bad([{ domain: 5, codePage: 3, entry: 0, name: 'x' }])).toBe(
      "domains[0] has an unknown field 'name'",
    );
    expect(bad({})).toBe('domains must be a list');
    expect(bad([7])).toBe('domains[0] is not an object');
  });

  const seed = Number(process.env.KEYVM_SEED ?? 1617);
  console.log(`debug domain records: seed ${seed} (set KEYVM_SEED to replay another)`);
  it('round-trip canonically whatever the order given (property)', () => {
    const state = encodeImage(tinyStore());
    const record = fc.record({
      domain: fc.integer({ min: 1, max: 0xffff_ffff }),
      codePage: fc.integer({ min: 1, max: 0xffff_ffff }),
      entry: fc.nat(),
    });
    fc.assert(
      fc.property(fc.uniqueArray(record, { selector: (d) => d.domain, maxLength: 20 }), (domains) => {
        const given: ImageDebugInfo = { programs: info.programs, domains };
        const file = attachDebugInfo(state, given);
        const sorted = [...domains].sort((a, b) => a.domain - b.domain);
        expect(imageDebugInfo(file)).toEqual({ programs: info.programs, domains: sorted });
        expect(attachDebugInfo(state, { programs: info.programs, domains: sorted })).toEqual(file);
        expect(splitImage(file).state).toEqual(state);
      }),
      { seed, numRuns: 100 },
    );
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
