import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { richStore } from './fixtures.test-helpers.js';
import { decodeImage, encodeImage, ImageError, imageHash } from './index.js';
import { compressImage, decompressImage, isCompressedImage, loadImageFile, saveImageFile } from './node.js';

describe('optional compression (a transport around the canonical bytes)', () => {
  it('round-trips, and the canonical bytes and hash are those of the uncompressed image', () => {
    const bytes = encodeImage(richStore());
    const packed = compressImage(bytes);
    expect(isCompressedImage(packed)).toBe(true);
    expect(isCompressedImage(bytes)).toBe(false);
    const unpacked = decompressImage(packed);
    expect(Buffer.from(unpacked).equals(Buffer.from(bytes))).toBe(true);
    expect(imageHash(unpacked)).toBe(imageHash(bytes));
    expect(Buffer.from(encodeImage(decodeImage(unpacked))).equals(Buffer.from(bytes))).toBe(true);
  });

  it('saves compressed only when asked, and loads either form', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyvm-compress-'));
    const bytes = encodeImage(richStore());
    await saveImageFile(join(dir, 'plain.kvmi'), bytes);
    await saveImageFile(join(dir, 'packed.kvmi'), bytes, { compress: true });
    expect(Buffer.from(readFileSync(join(dir, 'plain.kvmi'))).equals(Buffer.from(bytes))).toBe(true);
    expect(isCompressedImage(readFileSync(join(dir, 'packed.kvmi')))).toBe(true);
    for (const f of ['plain.kvmi', 'packed.kvmi']) {
      expect(Buffer.from(encodeImage(await loadImageFile(join(dir, f)))).equals(Buffer.from(bytes))).toBe(
        true,
      );
    }
  });

  it('refuses broken gzip and streams that unpack past the cap (no decompression bombs)', async () => {
    const bytes = encodeImage(richStore());
    const packed = compressImage(bytes);
    const broken = packed.slice(0, packed.length - 9);
    expect(() => decompressImage(broken)).toThrow(ImageError);
    expect(() => decompressImage(Uint8Array.of(1, 2, 3))).toThrow(/not a gzip stream/);
    const refusal = (f: () => unknown): ImageError => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ImageError);
        return e as ImageError;
      }
      return expect.unreachable();
    };
    // A megabyte of zeros packs small: refused by its header, before it is unpacked.
    const zeros = gzipSync(new Uint8Array(1 << 20));
    expect(zeros.length).toBeLessThan(2000);
    expect(refusal(() => decompressImage(zeros)).code).toBe('bad-magic');
    const wrongVersion = new Uint8Array(1 << 20);
    wrongVersion.set(bytes.subarray(0, 8));
    expect(refusal(() => decompressImage(gzipSync(wrongVersion))).code).toBe('bad-version');
    // A true header followed by a megabyte more: unpacked only as far as the header says.
    const padded = new Uint8Array(bytes.length + (1 << 20));
    padded.set(bytes);
    const long = refusal(() => decompressImage(gzipSync(padded)));
    expect([long.code, long.section]).toEqual(['bad-compression', 'compression']);
    expect(long.reason).toMatch(new RegExp(`more than ${bytes.length} bytes`));
    // And never past the cap.
    const cap = bytes.length - 1;
    const capped = refusal(() => decompressImage(packed, cap));
    expect([capped.code, capped.reason]).toEqual([
      'limit',
      `image size in bytes: ${bytes.length} is more than the limit ${cap} (maxImageBytes)`,
    ]);
    expect(new Uint8Array(decompressImage(packed))).toEqual(new Uint8Array(bytes));
    const dir = mkdtempSync(join(tmpdir(), 'keyvm-compress-'));
    writeFileSync(join(dir, 'broken.kvmi'), broken);
    await expect(loadImageFile(join(dir, 'broken.kvmi'))).rejects.toThrow(ImageError);
  });
});
