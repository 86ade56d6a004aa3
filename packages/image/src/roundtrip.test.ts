// Round trips: store -> bytes -> store -> bytes is the identity on bytes, the
// decoded machine behaves like the saved one, and JSON is equivalent to binary.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  DataPage,
  Device,
  DomainSlot,
  KeyKind,
  KeyPage,
  Meter,
  NULL_KEY,
  numberKey,
  PageType,
  Store,
  UNLIMITED,
} from '@keyvm/core';
import { describe, expect, it } from 'vitest';
import { catchImageError, FIXTURES, richStore, tinyStore } from './fixtures.test-helpers.js';
import {
  decodeImage,
  encodeImage,
  IMAGE_FORMAT_VERSION,
  IMAGE_MAGIC,
  ImageError,
  imageFromJson,
  imageHash,
  imageToJson,
} from './index.js';

const same = (a: Uint8Array, b: Uint8Array) => expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);

describe.each(Object.entries(FIXTURES))('%s store', (_name, make) => {
  it('decodes and re-encodes to identical bytes', () => {
    const bytes = encodeImage(make());
    same(encodeImage(decodeImage(bytes)), bytes);
    same(encodeImage(decodeImage(encodeImage(decodeImage(bytes)))), bytes);
  });

  it('is canonical: building the same machine twice gives the same bytes and hash', () => {
    const a = encodeImage(make());
    const b = encodeImage(make());
    same(a, b);
    expect(imageHash(a)).toBe(imageHash(b));
    expect(imageHash(a)).toBe(createHash('sha256').update(a).digest('hex'));
  });

  it('starts with the magic and version and ends with the CRC-32 of the rest', () => {
    const bytes = encodeImage(make());
    expect([...bytes.subarray(0, 8)]).toEqual(IMAGE_MAGIC);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)).toBe(IMAGE_FORMAT_VERSION);
    const body = bytes.subarray(0, bytes.length - 4);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 4, true)).toBe(crc32(body));
  });

  it('has an equivalent JSON form (binary -> JSON -> binary, through JSON text)', () => {
    const store = make();
    const bytes = encodeImage(store);
    const json = imageToJson(store);
    expect(imageToJson(decodeImage(bytes))).toEqual(json);
    const text = JSON.stringify(json);
    same(encodeImage(imageFromJson(JSON.parse(text))), bytes);
    expect(JSON.stringify(imageToJson(imageFromJson(JSON.parse(text))))).toBe(text);
  });
});

describe('decoded data pages and the input bytes', () => {
  const dataPages = (s: Store): DataPage[] =>
    [...s.objects()].filter((o): o is DataPage => o instanceof DataPage && o.words.length > 0);

  it('share no memory by default: changing the input later changes nothing', () => {
    const bytes = encodeImage(richStore());
    const store = decodeImage(bytes);
    const pages = dataPages(store);
    expect(pages.length).toBeGreaterThan(0);
    for (const p of pages) expect(p.words.buffer).not.toBe(bytes.buffer);
    bytes.fill(0x5a, 64);
    same(encodeImage(store), encodeImage(richStore()));
  });

  it('are views of the input with { adopt: true } (aligned input), copies otherwise', () => {
    const bytes = encodeImage(richStore());
    const store = decodeImage(bytes, { adopt: true });
    same(encodeImage(store), bytes);
    for (const p of dataPages(store)) expect(p.words.buffer).toBe(bytes.buffer);
    // Not 4-byte aligned: the words are copied (correctly) instead.
    const odd = new Uint8Array(bytes.length + 1).subarray(1);
    odd.set(bytes);
    const copied = decodeImage(odd, { adopt: true });
    same(encodeImage(copied), bytes);
    for (const p of dataPages(copied)) expect(p.words.buffer).not.toBe(odd.buffer);
  });

  it('decode the same from an unaligned copy of the input', () => {
    for (const make of Object.values(FIXTURES)) {
      const bytes = encodeImage(make());
      const odd = new Uint8Array(bytes.length + 3).subarray(3);
      odd.set(bytes);
      same(encodeImage(decodeImage(odd)), bytes);
    }
  });

  it('do not overlap: writing all of one page leaves every other page as it was', () => {
    for (const adopt of [false, true]) {
      const store = decodeImage(encodeImage(richStore()), { adopt });
      const pages = dataPages(store);
      expect(pages.length).toBeGreaterThan(1);
      const before = pages.map((p) => [...p.words]);
      pages[0]!.words.fill(-1);
      for (let i = 1; i < pages.length; i++) expect([...pages[i]!.words]).toEqual(before[i]);
    }
  });
});

describe('the decoded machine', () => {
  it('keeps ids, nextId, versions, contents, meters and the kernel', () => {
    const original = richStore();
    const copy = decodeImage(encodeImage(original));
    expect(copy.nextId).toBe(original.nextId);
    expect(copy.objectCount).toBe(original.objectCount);
    expect(copy.kernel).toEqual(original.kernel);
    for (const o of original.objects()) {
      const c = copy.object(o.id)!;
      expect(c.constructor).toBe(o.constructor);
      expect(c.version).toBe(o.version);
      if (o instanceof DataPage) expect((c as DataPage).words).toEqual(o.words);
      if (o instanceof KeyPage) {
        const k = c as KeyPage;
        expect(k.isDomain).toBe(o.isDomain);
        expect(k.resumeGen).toBe(o.resumeGen);
        expect(k.slots).toEqual(o.slots.map((s) => original.normalize(s)));
      }
      if (o instanceof Meter) {
        const m = c as Meter;
        expect([m.resource, m.remaining, m.parent?.id, m.depth]).toEqual([
          o.resource,
          o.remaining,
          o.parent?.id,
          o.depth,
        ]);
        const chain = (x: Meter | null): number[] => (x === null ? [] : [x.id, ...chain(x.parent)]);
        expect(chain(m)).toEqual(chain(o));
        expect(m.keeper).toEqual(original.normalize(o.keeper));
      }
      if (o instanceof Device) expect((c as Device).transcript).toEqual(o.transcript);
    }
  });

  it('writes void keys (severed, destroyed, used-up resume) as the null key and keeps holes', () => {
    const s = richStore();
    const copy = decodeImage(encodeImage(s));
    const bag = [...copy.objects()].find((o) => o instanceof KeyPage && !o.isDomain) as KeyPage;
    const kinds = bag.slots.map((k) => k.kind);
    expect(kinds.filter((k) => k === KeyKind.null).length).toBe(4 + 2); // 4 void + 2 spare slots
    expect(bag.slots[6]).toBe(NULL_KEY);
    const holes = [];
    for (let id = 1; id < copy.nextId; id++) if (copy.object(id) === undefined) holes.push(id);
    expect(holes.length).toBe(1);
  });

  it('continues where the saved one stopped: pages, meters, resume keys and creation', () => {
    const s = tinyStore();
    const copy = decodeImage(encodeImage(s));
    const domain = copy.object(s.kernel.root) as KeyPage;
    const dk = copy.pageKey(domain);
    expect(copy.readWord(copy.getSlot(dk, DomainSlot.STACK), 1)).toBe(-7);
    const resume = copy.getSlot(dk, DomainSlot.RESUME);
    expect(copy.consumeResume(resume)).toBe(domain);
    expect(copy.getSlot(dk, DomainSlot.RESUME)).toBe(NULL_KEY); // used up
    const tm = copy.meter(copy.getSlot(dk, DomainSlot.TIME), true);
    expect(copy.available(tm)).toBe(100);
    const p = copy.createPage(PageType.data, copy.getSlot(dk, DomainSlot.MEMORY), 3);
    expect(p.target).toBe(s.nextId); // ids continue from nextId
    const sBytes = (() => {
      const r = s.getSlot(s.pageKey(s.object(s.kernel.root) as KeyPage), DomainSlot.RESUME);
      s.consumeResume(r);
      s.createPage(PageType.data, s.meterKey(s.primeMemory, true), 3);
      return encodeImage(s);
    })();
    same(encodeImage(copy), sBytes);
  });

  it('keeps an unlimited meter and a large finite one exactly', () => {
    const s = new Store({ time: Number.MAX_SAFE_INTEGER, memory: UNLIMITED });
    // Beyond the default maxMeterAmount (2^48): refused unless the embedder raises it.
    expect(catchImageError(() => decodeImage(encodeImage(s))).code).toBe('limit');
    const copy = decodeImage(encodeImage(s), { limits: { maxMeterAmount: Number.MAX_SAFE_INTEGER } });
    expect(copy.primeTime.remaining).toBe(Number.MAX_SAFE_INTEGER);
    expect(copy.primeMemory.remaining).toBe(UNLIMITED);
  });
});

describe('encoding refuses a store the decoder would refuse', () => {
  it('names the rule and the JSON path (a domain slot holding the wrong kind)', () => {
    const s = tinyStore();
    const domain = s.object(s.kernel.root) as KeyPage;
    s.setSlot(s.pageKey(domain), DomainSlot.TIME, numberKey(5));
    const e = catchImageError(() => encodeImage(s));
    expect([e.code, e.section, e.offset]).toEqual(['bad-domain', 'keys', '$.objects[1].slots[0]']);
    expect(() => imageToJson(s)).toThrow(ImageError);
  });

  it('refuses a kernel naming a page that is not a domain', () => {
    const s = tinyStore();
    s.kernel.active = 3;
    const e = catchImageError(() => encodeImage(s));
    expect([e.code, e.section, e.offset]).toEqual(['bad-kernel', 'kernel', '$.kernel.active']);
  });

  it('writes the run queue as the scheduler reads it: entries that cannot run are dropped', () => {
    const s = tinyStore();
    // #3 is a data page, #4 an available (idle) domain, #99 nothing: the scheduler drops all three.
    s.kernel.runQueue = [3, 4, 99];
    const copy = decodeImage(encodeImage(s));
    expect(copy.kernel.runQueue).toEqual([]);
  });
});
