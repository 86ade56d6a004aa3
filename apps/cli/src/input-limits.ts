// What the command reads and runs at most: the --max-input cap on every file and
// stdin (read in chunks, stopped past the cap), the image limits that follow from
// it, and the meter amounts treated as "unlimited" (capped to the run defaults).
import { open } from 'node:fs/promises';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '@keyvm/image';
import { malformed } from './errors.js';

/** Default --max-input: 256 MiB, the largest image the decoder accepts by default. */
export const DEFAULT_MAX_INPUT = DEFAULT_IMAGE_LIMITS.maxImageBytes;

/**
 * Meter amounts above this (2^48, the image format's default maxMeterAmount) are
 * as good as unlimited: a run treats them as it treats unlimited and uses its
 * default budget instead.
 */
export const METER_CAP = DEFAULT_IMAGE_LIMITS.maxMeterAmount;

let maxInput = DEFAULT_MAX_INPUT;

/** Set the cap for the rest of this command (main does it from --max-input). */
export function setMaxInput(bytes: number): void {
  maxInput = bytes;
}

export function currentMaxInput(): number {
  return maxInput;
}

/**
 * A --max-input value: a whole number of bytes, optionally grouped with `_` and
 * followed by a binary unit (K, M, G, with or without iB); undefined when it is none.
 */
export function parseByteSize(value: string): number | undefined {
  const m = /^(\d+(?:_\d+)*)\s*(?:([KMG])(?:i?B)?|B)?$/i.exec(value.trim());
  if (m === null) return undefined;
  const unit = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[(m[2] ?? '').toUpperCase() as 'K'] ?? 1;
  const n = Number(m[1]!.replace(/_/g, '')) * unit;
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/** Limits for decoding images under the cap; meter amounts load whatever they are and are capped when run. */
export function cliImageLimits(): Partial<ImageLimits> {
  return { maxImageBytes: maxInput, maxMeterAmount: Number.MAX_SAFE_INTEGER };
}

const tooLarge = (name: string): Error =>
  malformed(
    `${name}: the input is larger than ${maxInput.toLocaleString('en-US')} bytes (--max-input; raise it to read more)`,
  );

/** Chunks read at a time. */
const CHUNK = 1 << 20;

/** At most the cap's bytes of a file (any kind: /dev/zero stops at the cap). */
export async function readFileCapped(path: string, name: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const stats = await fh.stat();
    if (stats.isFile() && stats.size > maxInput) throw tooLarge(name);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(CHUNK, maxInput + 1 - total);
      const buf = new Uint8Array(want);
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxInput) throw tooLarge(name);
      chunks.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
    }
    return concat(chunks, total);
  } finally {
    await fh.close();
  }
}

/** At most the cap's bytes of a stream (stdin); stops reading past it. */
export async function readStreamCapped(stream: AsyncIterable<Uint8Array>, name: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > maxInput) throw tooLarge(name);
    chunks.push(chunk);
  }
  return concat(chunks, total);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
