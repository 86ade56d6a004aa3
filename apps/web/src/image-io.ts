// The playground's one door to @keyvm/image: encode, decode and hash a machine's
// store (checkpoints, open and download), and unpack gzip images in the browser.
import type { Store } from '@keyvm/core';
import { decodeImage, encodeImage, imageHash } from '@keyvm/image';

export { ImageError } from '@keyvm/image';

/** The canonical bytes of a store: what `keyvm resume` reads. */
export function encodeStore(store: Store): Uint8Array {
  return encodeImage(store);
}

/** A store from image bytes, strictly checked (throws ImageError naming what and where). */
export function decodeStore(bytes: Uint8Array): Store {
  return decodeImage(bytes);
}

/** Hex sha256 of image bytes (the same as `sha256sum image.kvmi`). */
export function hashImage(bytes: Uint8Array): string {
  return imageHash(bytes);
}

const GZIP = [0x1f, 0x8b] as const;

/** Most bytes a gzip image may unpack to (the image package's own bound is the same order). */
export const MAX_IMAGE_BYTES = 256 * 1024 * 1024;

/** Image bytes from a file as saved: a gzip image is unpacked (bounded), a plain one returned as is. */
export async function unpackImage(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes[0] !== GZIP[0] || bytes[1] !== GZIP[1]) return bytes;
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_IMAGE_BYTES) {
      await reader.cancel();
      throw new Error(`the gzip image unpacks to more than ${MAX_IMAGE_BYTES} bytes`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
