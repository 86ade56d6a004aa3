import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';
import {
  assemble,
  decodeProgram,
  encodeProgram,
  KVM_FORMAT_ERROR_CODES,
  KvmFormatError,
  type KvmFormatErrorCode,
  type Label,
  type Program,
} from './index.js';
import { MAX_PAGE_WORDS } from './program.js';

const seed = assemble('add(1,0)\nstart:\nadd(1,1)\njump(:start)\n', { file: 'seed.ism' });
const withData = assemble('buf: .data 1, 2\nmain: PUSH :buf\nHALT', { file: 'data.ism' });

/** Rewrites the trailing CRC so that a mutation reaches the structural checks. */
function restamp(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  if (copy.length >= 4)
    new DataView(copy.buffer).setUint32(copy.length - 4, crc32(copy, 0, copy.length - 4), true);
  return copy;
}

function patch(bytes: Uint8Array, offset: number, u32: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, u32, true);
  return restamp(copy);
}

function refusal(bytes: Uint8Array): { code: KvmFormatErrorCode; offset: number; reason: string } {
  try {
    decodeProgram(bytes);
  } catch (e) {
    if (e instanceof KvmFormatError) return { code: e.code, offset: e.offset, reason: e.reason };
    throw e;
  }
  throw new Error('expected a KvmFormatError');
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('encodeProgram', () => {
  it('writes the header, the sections in order and a checksum', () => {
    const bytes = encodeProgram({
      code: Int32Array.of(21),
      data: new Int32Array(0),
      labels: [],
      sourceMap: [],
    });
    expect(Array.from(bytes)).toEqual([
      ...[0x4b, 0x56, 0x4d, 0x00], // "KVM\0"
      ...[1, 0, 0, 0], // version 1, flags 0
      ...[1, 0, 0, 0], // one section
      ...[0x43, 0x4f, 0x44, 0x45, 4, 0, 0, 0, 21, 0, 0, 0], // CODE, 4 bytes, HALT
      ...Array.from(bytes.slice(-4)),
    ]);
    expect(new DataView(bytes.buffer).getUint32(bytes.length - 4, true)).toBe(
      crc32(bytes, 0, bytes.length - 4),
    );
  });

  it('round-trips programs exactly, and canonically', () => {
    for (const program of [seed, withData, assemble(''), assemble('HALT', { file: 'é.ism' })]) {
      const bytes = encodeProgram(program);
      expect(decodeProgram(bytes)).toEqual(program);
      expect(encodeProgram(decodeProgram(bytes))).toEqual(bytes);
    }
  });

  it('refuses programs the reader would refuse', () => {
    const bad: Program[] = [
      { ...seed, labels: [{ name: 'x', address: 99, section: 'code' }] },
      { ...seed, labels: [...seed.labels, ...seed.labels] },
      { ...seed, labels: [{ name: '', address: 0, section: 'code' }] },
      { ...seed, sourceMap: [{ pc: 13, line: 1, col: 1 }] },
      { ...seed, sourceMap: [{ pc: 0, line: 0, col: 1 }] },
      { ...seed, source: '\ud800' },
    ];
    for (const program of bad) expect(() => encodeProgram(program)).toThrow(RangeError);
  });
});

/** Where each section's header and payload start, found by walking a well-formed file. */
function sections(bytes: Uint8Array): Record<string, { header: number; payload: number }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found: Record<string, { header: number; payload: number }> = {};
  let o = 12;
  for (let i = 0; i < view.getUint32(8, true); i++) {
    const tag = String.fromCharCode(...bytes.slice(o, o + 4));
    found[tag] = { header: o, payload: o + 8 };
    o += 8 + view.getUint32(o + 4, true);
  }
  return found;
}

describe('decodeProgram refuses malformed input with a reason and offset', () => {
  const good = encodeProgram(withData);
  const { CODE, DATA, DBUG } = sections(good) as Record<
    'CODE' | 'DATA' | 'DBUG',
    { header: number; payload: number }
  >;
  const tag = (name: string) => new DataView(new TextEncoder().encode(name).buffer).getUint32(0, true);
  const header = Uint8Array.from([0x4b, 0x56, 0x4d, 0, 1, 0, 0, 0]);
  const sectionBytes = (name: string, payload: number[] = []) => [
    ...new TextEncoder().encode(name),
    ...[payload.length, 0, 0, 0],
    ...payload,
  ];
  const cases: [string, Uint8Array, KvmFormatErrorCode, number][] = [
    ['empty input', new Uint8Array(0), 'truncated', 0],
    ['bad magic', Uint8Array.from([0x4b, 0x56, 0x4e, 0]), 'bad-magic', 2],
    ['a short header', good.slice(0, 6), 'truncated', 6],
    ['an unknown version', patch(good, 4, 2), 'unsupported-version', 4],
    ['unknown flags', patch(good, 4, 0x0001_0001), 'unknown-flags', 6],
    ['a section count too large', patch(good, 8, 4), 'truncated', good.length - 4],
    [
      'a section header cut short',
      restamp(Uint8Array.from([...header, 1, 0, 0, 0, 0x43, 0x4f, 0, 0, 0, 0])),
      'truncated',
      12,
    ],
    ['an unknown section tag', patch(good, DATA.header, tag('DATB')), 'unknown-section', DATA.header],
    ['a duplicate section', patch(good, DATA.header, tag('CODE')), 'duplicate-section', DATA.header],
    [
      'sections out of order',
      patch(patch(good, CODE.header, tag('DATA')), DATA.header, tag('CODE')),
      'section-order',
      DATA.header,
    ],
    ['a length past the end', patch(good, CODE.header + 4, 0x7fff_fff0), 'section-overrun', CODE.header + 4],
    ['code not a multiple of 4', patch(good, CODE.header + 4, 10), 'misaligned-section', CODE.header + 4],
    ['no code section', restamp(Uint8Array.from([...header, 0, 0, 0, 0, 0, 0, 0, 0])), 'missing-code', 8],
    [
      'an empty DATA section',
      restamp(
        Uint8Array.from([
          ...header,
          2,
          0,
          0,
          0,
          ...sectionBytes('CODE'),
          ...sectionBytes('DATA'),
          0,
          0,
          0,
          0,
        ]),
      ),
      'empty-section',
      20,
    ],
    [
      'an empty DBUG section',
      restamp(
        Uint8Array.from([
          ...header,
          2,
          0,
          0,
          0,
          ...sectionBytes('CODE'),
          ...sectionBytes('DBUG', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
          0,
          0,
          0,
          0,
        ]),
      ),
      'empty-section',
      20,
    ],
    ['trailing bytes', Uint8Array.from([...good, 0]), 'trailing-bytes', good.length],
    ['truncation', good.slice(0, good.length - 1), 'truncated', good.length - 4],
    [
      'a bad checksum',
      Uint8Array.from(good.map((b, i) => (i === good.length - 1 ? b ^ 1 : b))),
      'bad-checksum',
      good.length - 4,
    ],
    [
      'a corrupted payload',
      Uint8Array.from(good.map((b, i) => (i === CODE.payload ? b ^ 0x80 : b))),
      'bad-checksum',
      good.length - 4,
    ],
    [
      'a file name length past the section',
      patch(good, DBUG.payload, 1000),
      'bad-debug-info',
      DBUG.payload + 4,
    ],
  ];

  it('knows where the sections are', () => {
    expect([CODE.header, DATA.header, DBUG.header]).toEqual([12, 32, 48]);
  });

  it.each(cases)('%s', (_what, bytes, code, offset) => {
    const error = refusal(bytes);
    expect({ code: error.code, offset: error.offset }).toEqual({ code, offset });
    expect(error.reason.length).toBeGreaterThan(0);
  });

  describe('the debug section', () => {
    // Payload: u32 file-name length + "f" (p..p+4), u32 label count (p+5), then label "a":
    // u8 section (p+9), u32 address (p+10), u32 name length (p+14), "a" (p+18);
    // u32 source map count (p+19), then pc/line/col triples from p+23.
    const base = encodeProgram({
      ...withData,
      labels: [{ name: 'a', address: 0, section: 'code' }],
      source: 'f',
    });
    const p = sections(base).DBUG!.payload;
    const poke = (at: number, byte: number) => {
      const copy = base.slice();
      copy[at] = byte;
      return restamp(copy);
    };

    it('decodes as written', () => {
      expect(decodeProgram(base).labels).toEqual([{ name: 'a', address: 0, section: 'code' }]);
      expect(decodeProgram(base).sourceMap).toEqual(withData.sourceMap);
    });

    it.each<[string, () => Uint8Array, number]>([
      ['a label count that cannot fit', () => patch(base, p + 5, 0x1000_0000), p + 5],
      ['a label section byte other than 0 or 1', () => poke(p + 9, 2), p + 9],
      ['a label address past the end of its section', () => patch(base, p + 10, 99), p + 10],
      ['a label name that is not UTF-8', () => poke(p + 18, 0xff), p + 14],
      ['a file name that is not UTF-8', () => poke(p + 4, 0xc0), p],
      ['a source map count that cannot fit', () => patch(base, p + 19, 1000), p + 19],
      ['source map pcs out of order', () => patch(base, p + 23 + 12, 0), p + 23 + 12],
      ['a source map line of 0', () => patch(base, p + 23 + 4, 0), p + 23 + 4],
      ['a source map pc past the code', () => patch(base, p + 23 + 12, 3), p + 23 + 12],
    ])('refuses %s', (_what, bytes, offset) => {
      expect(refusal(bytes())).toMatchObject({ code: 'bad-debug-info', offset });
    });

    it('refuses labels out of canonical order and repeated labels', () => {
      const two = encodeProgram({
        code: withData.code,
        data: withData.data,
        labels: [
          { name: 'a', address: 0, section: 'code' },
          { name: 'b', address: 0, section: 'code' },
        ],
        sourceMap: [],
      });
      const q = sections(two).DBUG!.payload + 8; // after the empty file name and the label count
      const swapped = two.slice();
      swapped[q + 9] = 0x62; // first name "a" -> "b"
      swapped[q + 19] = 0x61; // second name "b" -> "a"
      expect(refusal(restamp(swapped))).toMatchObject({ code: 'bad-debug-info', offset: q + 10 });
      const twice = two.slice();
      twice[q + 19] = 0x61; // second name "b" -> "a"
      expect(refusal(restamp(twice))).toMatchObject({ code: 'bad-debug-info', offset: q + 10 });
    });
  });

  it('uses only codes from the catalogue', () => {
    for (const [, , code] of cases) expect(Object.keys(KVM_FORMAT_ERROR_CODES)).toContain(code);
  });
});

describe('the page limit', () => {
  /** A file with one CODE or DATA section of `words` zero words (and CODE before DATA). */
  function fileWith(section: 'CODE' | 'DATA', words: number): Uint8Array {
    const sectionCount = section === 'CODE' ? 1 : 2;
    const bytes = new Uint8Array(12 + 8 * sectionCount + words * 4 + 4);
    const view = new DataView(bytes.buffer);
    bytes.set([0x4b, 0x56, 0x4d, 0, 1, 0, 0, 0, sectionCount]);
    let o = 12;
    if (section === 'DATA') {
      bytes.set(new TextEncoder().encode('CODE'), o);
      o += 8; // an empty CODE section
    }
    bytes.set(new TextEncoder().encode(section), o);
    view.setUint32(o + 4, words * 4, true);
    return restamp(bytes);
  }

  it('reads code and data of 2^24 words', () => {
    expect(decodeProgram(fileWith('CODE', MAX_PAGE_WORDS)).code.length).toBe(MAX_PAGE_WORDS);
    expect(decodeProgram(fileWith('DATA', MAX_PAGE_WORDS)).data.length).toBe(MAX_PAGE_WORDS);
  });

  it('refuses a CODE or DATA section of more words, before reading it', () => {
    expect(refusal(fileWith('CODE', MAX_PAGE_WORDS + 1))).toEqual({
      code: 'oversized-section',
      offset: 16,
      reason: 'CODE section of 16777217 words is larger than a page (at most 16777216 words)',
    });
    expect(refusal(fileWith('DATA', MAX_PAGE_WORDS + 1))).toMatchObject({
      code: 'oversized-section',
      offset: 24,
    });
    expect(Object.keys(KVM_FORMAT_ERROR_CODES)).toContain('oversized-section');
  });

  it('does not write what it would refuse', () => {
    const big = new Int32Array(MAX_PAGE_WORDS + 1);
    expect(() => encodeProgram({ ...seed, code: big })).toThrow(
      /code of 16777217 words is larger than a page/,
    );
    expect(() => encodeProgram({ ...seed, data: big, labels: [] })).toThrow(RangeError);
  });
});

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const programs: fc.Arbitrary<Program> = fc
  .record({
    code: fc.array(int32, { maxLength: 40 }),
    data: fc.array(int32, { maxLength: 40 }),
    names: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6, unit: 'grapheme' }), { maxLength: 5 }),
    picks: fc.array(fc.tuple(fc.boolean(), fc.nat()), { minLength: 5, maxLength: 5 }),
    pcs: fc.uniqueArray(fc.nat(), { maxLength: 10 }),
    source: fc.option(fc.string({ minLength: 1, maxLength: 10, unit: 'grapheme' }), { nil: undefined }),
  })
  .map(({ code, data, names, picks, pcs, source }) => {
    const labels = names
      .map((name, i): Label => {
        const [inData, n] = picks[i]!;
        return {
          name,
          section: inData ? 'data' : 'code',
          address: n % ((inData ? data.length : code.length) + 1),
        };
      })
      .sort((a, b) =>
        a.section !== b.section
          ? a.section === 'code'
            ? -1
            : 1
          : a.address - b.address || (a.name < b.name ? -1 : 1),
      );
    const sourceMap =
      code.length === 0
        ? []
        : [...new Set(pcs.map((pc) => pc % code.length))]
            .sort((a, b) => a - b)
            .map((pc) => ({ pc, line: pc + 1, col: 3 }));
    return {
      code: Int32Array.from(code),
      data: Int32Array.from(data),
      labels,
      sourceMap,
      ...(source === undefined ? {} : { source }),
    };
  });

describe('properties', () => {
  it('encode then decode gives the program back, and bytes are canonical', () => {
    fc.assert(
      fc.property(programs, (program) => {
        const bytes = encodeProgram(program);
        expect(decodeProgram(bytes)).toEqual(program);
        expect(encodeProgram(decodeProgram(bytes))).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('decodeProgram throws nothing but KvmFormatError on mutated or truncated bytes', () => {
    const mutation = fc.record({
      cut: fc.nat(),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      extra: fc.uint8Array({ maxLength: 3 }),
      fixChecksum: fc.boolean(),
      truncate: fc.boolean(),
    });
    fc.assert(
      fc.property(programs, mutation, (program, { cut, edits, extra, fixChecksum, truncate }) => {
        let bytes = encodeProgram(program);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        if (truncate) bytes = bytes.slice(0, cut % (bytes.length + 1));
        bytes = Uint8Array.from([...bytes, ...extra]);
        if (fixChecksum) bytes = restamp(bytes);
        try {
          const decoded = decodeProgram(bytes);
          // Whatever is accepted re-encodes to the very same bytes.
          expect(encodeProgram(decoded)).toEqual(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(KvmFormatError);
          const { offset } = e as KvmFormatError;
          expect(offset).toBeGreaterThanOrEqual(0);
          expect(offset).toBeLessThanOrEqual(bytes.length);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
