// Image files: the crash-safe save replaces the target whole and leaves no
// temporary file; load decodes strictly.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectKind } from '@keyvm/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { richStore, tinyStore } from './fixtures.js';
import { encodeImage, ImageError, loadImageFile, saveImageFile } from './index.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyvm-image-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('image files', () => {
  it('saves, replaces and loads an image, leaving only the target', async () => {
    const path = join(dir, 'machine.kvmi');
    await saveImageFile(path, encodeImage(tinyStore()));
    const rich = encodeImage(richStore());
    await saveImageFile(path, rich);
    expect(new Uint8Array(await readFile(path))).toEqual(rich);
    expect(await readdir(dir)).toEqual(['machine.kvmi']);
    const loaded = await loadImageFile(path);
    expect(encodeImage(loaded)).toEqual(rich);
    // The data pages are views of the file's bytes (read into a buffer of its own).
    for (const o of loaded.objects())
      if (o.kind === ObjectKind.dataPage) expect(o.words.buffer.byteLength).toBe(rich.length);
  });

  it('leaves the old image when the save fails, and refuses a damaged file', async () => {
    const path = join(dir, 'machine.kvmi');
    await saveImageFile(path, encodeImage(tinyStore()));
    await expect(saveImageFile(join(dir, 'missing', 'x.kvmi'), new Uint8Array(1))).rejects.toThrow();
    const bytes = new Uint8Array(await readFile(path));
    bytes[100]! ^= 1;
    await writeFile(path, bytes);
    await expect(loadImageFile(path)).rejects.toBeInstanceOf(ImageError);
  });
});
