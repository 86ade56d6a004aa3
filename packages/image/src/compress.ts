// Optional compression of image files, off by default: gzip around the canonical
// bytes. The canonical form, and imageHash, are always those of the uncompressed
// image (deflate output is not byte-stable across zlib versions); a compressed
// file is only a way to carry it. Unpacking is capped, so a small hostile file
// cannot unpack into gigabytes.
import { constants, gunzipSync, gzipSync, type ZlibOptions } from 'node:zlib';
import { imageLengthFromHeader } from './binary.js';
import { refuse } from './errors.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './limits.js';

/** The first two bytes of every gzip stream. */
export const GZIP_MAGIC: Uint8Array = Uint8Array.of(0x1f, 0x8b);

/** The most an image may ever unpack to (2 GiB); by default the cap is DEFAULT_IMAGE_LIMITS.maxImageBytes. */
export const MAX_UNPACKED_BYTES = 2 ** 31 - 1;

/** True when `bytes` looks like a compressed (gzip) image file. */
export function isCompressedImage(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** Compress an encoded image for storage or transport. */
export function compressImage(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, { level: 6 });
}

/**
 * The image bytes inside a compressed file; throws ImageError ('bad-compression')
 * for a stream that is not valid gzip or that unpacks past `maxBytes`, and ('limit')
 * for a header whose declared size or counts pass `limits`, before unpacking the rest.
 */
export function decompressImage(
  bytes: Uint8Array,
  maxBytes = DEFAULT_IMAGE_LIMITS.maxImageBytes,
  limits?: Partial<ImageLimits>,
): Uint8Array {
  maxBytes = Math.min(maxBytes, MAX_UNPACKED_BYTES);
  if (!isCompressedImage(bytes))
    refuse('bad-compression', { section: 'compression', offset: 0 }, 'not a gzip stream');
  // First only the header, from the start of the stream (a bounded amount: PEEK_INPUT
  // bytes of deflate unpack to at most about a thousand times that), so a file that is
  // no image of this version is refused before it is unpacked, and the rest is
  // unpacked only as far as the header says the image goes.
  const start = gunzip(bytes.subarray(0, PEEK_INPUT), { finishFlush: constants.Z_SYNC_FLUSH }, maxBytes);
  const length = Math.min(imageLengthFromHeader(start, { maxImageBytes: maxBytes, ...limits }), maxBytes);
  return gunzip(bytes, { maxOutputLength: length }, length);
}

/** Compressed bytes read to find the header (enough for it, even stored uncompressed). */
const PEEK_INPUT = 1024;

function gunzip(bytes: Uint8Array, options: ZlibOptions, limit: number): Uint8Array {
  try {
    return gunzipSync(bytes, options);
  } catch (e) {
    const tooBig = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    const reason = tooBig
      ? `it unpacks to more than ${limit} bytes`
      : `not valid gzip (${(e as Error).message})`;
    return refuse('bad-compression', { section: 'compression', offset: 0 }, reason);
  }
}
