// readImageHeader: the header fields, for tools (the CLI's inspect) that show them
// without knowing byte offsets.
import { describe, expect, it } from 'vitest';
import { catchImageError, richStore } from './fixtures.test-helpers.js';
import { decodeImage, encodeImage, IMAGE_FORMAT_VERSION, readImageHeader } from './index.js';

describe('readImageHeader', () => {
  it('reads what the header says, from the image or its first 64 bytes, and refuses as decodeImage does', () => {
    const bytes = encodeImage(richStore());
    const store = decodeImage(bytes);
    const header = readImageHeader(bytes);
    expect(header).toEqual(readImageHeader(bytes.slice(0, 64)));
    expect(header.version).toBe(IMAGE_FORMAT_VERSION);
    expect(header.flags).toBe(0);
    expect(header.length).toBe(bytes.length);
    expect(header.nextId).toBe(store.nextId);
    expect(header.meterCount + header.objectCount).toBe([...store.objects()].length);
    const s = header.sections;
    expect(64 + s.meters + s.objects + s.keys + s.kernel + 4).toBe(bytes.length);
    expect(s.meters).toBe(24 * header.meterCount);
    expect(catchImageError(() => readImageHeader(bytes.slice(0, 63))).code).toBe('truncated');
    const wrongVersion = bytes.slice(0, 64);
    wrongVersion[8] = 2;
    const e = catchImageError(() => readImageHeader(wrongVersion));
    expect([e.code, e.section, e.offset]).toEqual(['bad-version', 'header', 8]);
  });
});
