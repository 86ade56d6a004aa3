// Image files: a crash-safe save (temporary file, fsync, rename, fsync the
// directory) so a crash leaves either the old image or the new one, never a mix.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Store } from '@keyvm/core';
import { decodeImage } from './binary.js';
import { compressImage, decompressImage, isCompressedImage } from './compress.js';

export interface SaveOptions {
  /** Write the file gzip-compressed (the image, and its hash, stay the uncompressed bytes). */
  readonly compress?: boolean;
}

/**
 * Write `bytes` to `path` atomically: write `path`'s sibling temporary file, fsync
 * it, rename it over `path`, then fsync the directory so the rename itself is
 * durable. On failure the temporary file is removed and `path` is untouched.
 */
export async function saveImageFile(
  path: string,
  image: Uint8Array,
  options: SaveOptions = {},
): Promise<void> {
  const bytes = options.compress ? compressImage(image) : image;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open or fsync a directory; its rename is as durable as it gets.
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Read and decode an image file, compressed or not (throws ImageError for a
 * malformed image, fs errors as they are). The buffer read is nobody else's, so the
 * store's data pages are views of it rather than a second copy (unless it shares
 * its memory, e.g. with a pool).
 */
export async function loadImageFile(path: string): Promise<Store> {
  const read = await readFile(path);
  const bytes = isCompressedImage(read) ? decompressImage(read) : read;
  const ours = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return decodeImage(bytes, { adopt: ours });
}
