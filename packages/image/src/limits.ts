// The embedder's limits on what loading an image may allocate (SQLite's sqlite3_limit):
// one object with safe defaults, checked against the header before anything is built.
import { LIMITS } from '@keyvm/core';
import { refuse, type Where } from './errors.js';

/** What a decoder may accept and so allocate. Every field is a whole number. */
export interface ImageLimits {
  /** Largest image in bytes, uncompressed (a compressed file is unpacked at most this far). */
  readonly maxImageBytes: number;
  /** Most meters plus pages and devices an image may hold. */
  readonly maxObjects: number;
  /** Most keys (meter keepers plus key page slots) an image may hold. */
  readonly maxKeys: number;
  /** Largest data page or device transcript, in words (at most the core's 2^24). */
  readonly maxPageWords: number;
  /** Largest key page, in slots (at most the core's 2^20). */
  readonly maxPageSlots: number;
  /** Most gas or memory words a meter may hold, unlimited aside (the encoding's all-ones). */
  readonly maxMeterAmount: number;
  /**
   * Fewest bumps every version and resume generation must be from the wrap point
   * (2^32-1), where the core voids old keys with one sweep over the whole store: with
   * 2^24, a sweep over at most maxObjects + maxKeys entries is paid by 2^24 bumps.
   */
  readonly versionWrapMargin: number;
}

/**
 * Safe defaults: a 256 MiB image of up to 2^20 objects and 2^22 keys loads in about
 * a gigabyte of host memory at most. Raise them for larger machines you trust.
 */
export const DEFAULT_IMAGE_LIMITS: ImageLimits = Object.freeze({
  maxImageBytes: 256 * 1024 * 1024,
  maxObjects: 1 << 20,
  maxKeys: 1 << 22,
  maxPageWords: LIMITS.maxDataPageWords,
  maxPageSlots: LIMITS.maxKeyPageSlots,
  maxMeterAmount: 2 ** 48,
  versionWrapMargin: 1 << 24,
});

/** `partial` over the defaults; throws RangeError for a field that is not a whole number >= 0. */
export function resolveImageLimits(partial: Partial<ImageLimits> = {}): ImageLimits {
  const out: Record<string, number> = { ...DEFAULT_IMAGE_LIMITS };
  for (const [name, value] of Object.entries(partial)) {
    if (!(name in DEFAULT_IMAGE_LIMITS)) throw new RangeError(`unknown image limit ${name}`);
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`image limit ${name} must be a whole number >= 0, got ${value}`);
    out[name] = value;
  }
  out.maxPageWords = Math.min(out.maxPageWords!, LIMITS.maxDataPageWords);
  out.maxPageSlots = Math.min(out.maxPageSlots!, LIMITS.maxKeyPageSlots);
  return Object.freeze(out) as unknown as ImageLimits;
}

/** Refuse (code 'limit') a count or size over the embedder's limit, naming the limit to raise. */
export function checkLimit(
  value: number,
  limit: number,
  name: keyof ImageLimits,
  what: string,
  where: Where | (() => Where),
): void {
  if (value > limit)
    refuse(
      'limit',
      typeof where === 'function' ? where() : where,
      `${what}: ${value} is more than the limit ${limit} (${name})`,
    );
}
