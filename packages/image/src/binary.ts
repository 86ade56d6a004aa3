// The binary image: a fixed header, four sections (meters, objects, keys, kernel)
// and a CRC-32 over everything before it. Little-endian; data words as blocks.
// The writer and the reader below mirror each other field by field.
import { DataPage, type KernelState, KeyKind, LIMITS, ObjectKind, type Store, UNLIMITED } from '@keyvm/core';
// Native sha256 / CRC-32 in Node, plain ECMAScript elsewhere (package.json `imports`).
import { allocateBytes, crc32, LITTLE_ENDIAN_HOST, sha256Hex } from '#platform';
import { type ImageSection, refuse, type Where } from './errors.js';
import { storeLocator } from './json.js';
import { checkLimit, type ImageLimits, resolveImageLimits } from './limits.js';
import {
  type DeviceRecord,
  type ImageModel,
  type KeyPageRecord,
  type KeyRecord,
  type MeterRecord,
  modelFromStore,
  type ObjectRecord,
  storeFromModel,
} from './model.js';
import { checkPageSize, type Locator, maxPageSize, validateModel } from './validate.js';

/** The binary format version this module writes and reads. */
export const IMAGE_FORMAT_VERSION = 1;

/** First eight bytes of every image: a non-ASCII byte, "KVMI", CR LF, ^Z (as PNG does). */
export const IMAGE_MAGIC: readonly number[] = Object.freeze([0x89, 0x4b, 0x56, 0x4d, 0x49, 0x0d, 0x0a, 0x1a]);

export const HEADER_SIZE = 64;
/** The trailing CRC-32 (u32): damage detection, not a commitment (that is `imageHash`). */
export const CHECKSUM_SIZE = 4;

/** Header fields: byte offsets from the start of the image. */
const H = Object.freeze({
  magic: 0,
  version: 8,
  flags: 12,
  nextId: 16,
  meterCount: 20,
  objectCount: 24,
  keyCount: 28,
  metersLength: 32,
  objectsLength: 40,
  keysLength: 48,
  kernelLength: 56,
});

/** Meter record (fixed size). Every meter and object record is a multiple of 4 bytes. */
const M = Object.freeze({ id: 0, version: 4, resource: 8, parent: 12, remaining: 16, size: 24 });
/**
 * Object records: a u32 tag (the core's ObjectKind), then u32 fields. The header
 * and meters are multiples of 4 bytes, so data words start 4-byte aligned in the
 * image and are copied as whole blocks.
 */
const DATA = Object.freeze({ id: 4, version: 8, meter: 12, size: 16, words: 20 });
const KPAGE = Object.freeze({ id: 4, version: 8, meter: 12, flags: 16, resumeGen: 20, size: 24, end: 28 });
const DEV = Object.freeze({ id: 4, version: 8, deviceType: 12, size: 16, transcript: 20 });
/** Kernel section (fixed part, then runQueue entries). */
const K = Object.freeze({
  root: 0,
  active: 4,
  steps: 8,
  quantum: 16,
  sliceLeft: 24,
  faultCode: 32,
  faultPc: 36,
  faultDomain: 40,
  runQueueLength: 44,
  runQueue: 48,
});
/** Key page flag bits. */
const FLAG_DOMAIN = 1;
/** u64 all ones: an unlimited meter. */
const U32 = 0x1_0000_0000;

/** Bytes a key takes: kind byte, then value (number), target+version, or target+version+value. */
function keySize(kind: number): number {
  switch (kind) {
    case KeyKind.null:
      return 1;
    case KeyKind.number:
      return 5;
    case KeyKind.resume:
    case KeyKind.meter:
      return 13;
    case KeyKind.page:
    case KeyKind.readPage:
    case KeyKind.domain:
    case KeyKind.device:
      return 9;
    default:
      return 0;
  }
}

/**
 * The CRC-32 is computed in steps of about this many bytes, right after they are
 * written (save), or just before they are copied and their object records are read
 * (load), while they are in cache.
 */
const CRC_STEP = 1 << 16;

/** Hex sha256 of the whole image, checksum included: the same as `sha256sum image.kvmi`. */
export function imageHash(bytes: Uint8Array): string {
  return sha256Hex(bytes);
}

// ---- writing -------------------------------------------------------------------------

/**
 * The canonical image of a store: keys written as they read (void keys as null),
 * objects in ascending id. The store is validated first with the decoder's rules,
 * so every image this writes loads back; a store that breaks them throws ImageError.
 */
export function encodeImage(store: Store): Uint8Array {
  const model = modelFromStore(store);
  validateModel(model, storeLocator);
  return writeModel(model);
}

function writeModel(model: ImageModel): Uint8Array {
  const { meters, objects, kernel } = model;
  // Pass 1: exact sizes.
  let objectsLength = 0;
  let keyCount = meters.length;
  let keysLength = 0;
  const keyPages: KeyPageRecord[] = [];
  for (const m of meters) keysLength += keySize(m.keeper.kind);
  for (const o of objects) {
    if (o.kind === ObjectKind.dataPage) objectsLength += DATA.words + 4 * o.words.length;
    else if (o.kind === ObjectKind.device) objectsLength += DEV.transcript + 4 * o.transcript.length;
    else {
      keyPages.push(o);
      objectsLength += KPAGE.end;
      keyCount += o.slots.length;
      for (const k of o.slots) keysLength += keySize(k.kind);
    }
  }
  const metersLength = M.size * meters.length;
  const kernelLength = K.runQueue + 4 * kernel.runQueue.length;
  const total = HEADER_SIZE + metersLength + objectsLength + keysLength + kernelLength + CHECKSUM_SIZE;

  // Pass 2: fill. Every byte is written, so the buffer need not be zeroed.
  const out = allocateBytes(total);
  const dv = new DataView(out.buffer, out.byteOffset, total);
  // Aligned word view of the output (allocateBytes gives offset 0) for block copies.
  const out32 = new Int32Array(out.buffer, out.byteOffset, total >>> 2);
  const u8 = (p: number, v: number) => dv.setUint8(p, v);
  const u32 = (p: number, v: number) => dv.setUint32(p, v, true);
  const i32 = (p: number, v: number) => dv.setInt32(p, v, true);
  const u64 = (p: number, v: number) => {
    if (v === UNLIMITED) {
      u32(p, 0xffff_ffff);
      u32(p + 4, 0xffff_ffff);
    } else {
      u32(p, v % U32);
      u32(p + 4, Math.floor(v / U32));
    }
  };

  out.set(IMAGE_MAGIC, H.magic);
  u32(H.version, IMAGE_FORMAT_VERSION);
  u32(H.flags, 0);
  u32(H.nextId, model.nextId);
  u32(H.meterCount, meters.length);
  u32(H.objectCount, objects.length);
  u32(H.keyCount, keyCount);
  u64(H.metersLength, metersLength);
  u64(H.objectsLength, objectsLength);
  u64(H.keysLength, keysLength);
  u64(H.kernelLength, kernelLength);

  let p = HEADER_SIZE;
  for (const m of meters) {
    u32(p + M.id, m.id);
    u32(p + M.version, m.version);
    u32(p + M.resource, m.resource);
    u32(p + M.parent, m.parent);
    u64(p + M.remaining, m.remaining);
    p += M.size;
  }
  const writeWords = (at: number, words: Int32Array | readonly number[]) => {
    if (LITTLE_ENDIAN_HOST && words instanceof Int32Array) {
      out32.set(words, at >>> 2); // `at` is 4-byte aligned: one memcpy, no view
    } else {
      for (let i = 0; i < words.length; i++) i32(at + 4 * i, words[i]!);
    }
  };
  // The CRC-32 of out[0, sealed) so far, extended as the objects are written.
  let crc = 0;
  let sealed = 0;
  for (const o of objects) {
    if (p - sealed >= CRC_STEP) {
      crc = crc32(out.subarray(sealed, p), crc);
      sealed = p;
    }
    u32(p, o.kind);
    u32(p + DATA.id, o.id);
    u32(p + DATA.version, o.version);
    if (o.kind === ObjectKind.dataPage) {
      u32(p + DATA.meter, o.meter);
      u32(p + DATA.size, o.words.length);
      writeWords(p + DATA.words, o.words);
      p += DATA.words + 4 * o.words.length;
    } else if (o.kind === ObjectKind.keyPage) {
      u32(p + KPAGE.meter, o.meter);
      u32(p + KPAGE.flags, o.isDomain ? FLAG_DOMAIN : 0);
      u32(p + KPAGE.resumeGen, o.resumeGen);
      u32(p + KPAGE.size, o.slots.length);
      p += KPAGE.end;
    } else {
      u32(p + DEV.deviceType, o.deviceType);
      u32(p + DEV.size, o.transcript.length);
      writeWords(p + DEV.transcript, o.transcript);
      p += DEV.transcript + 4 * o.transcript.length;
    }
  }
  const writeKey = (k: KeyRecord) => {
    u8(p, k.kind);
    if (k.kind === KeyKind.number) i32(p + 1, k.value);
    else if (k.kind !== KeyKind.null) {
      u32(p + 1, k.target);
      u32(p + 5, k.version);
      if (k.kind === KeyKind.resume || k.kind === KeyKind.meter) u32(p + 9, k.value);
    }
    p += keySize(k.kind);
  };
  for (const m of meters) writeKey(m.keeper);
  for (const o of keyPages) for (const k of o.slots) writeKey(k);

  u32(p + K.root, kernel.root);
  u32(p + K.active, kernel.active);
  u64(p + K.steps, kernel.steps);
  u64(p + K.quantum, kernel.quantum);
  u64(p + K.sliceLeft, kernel.sliceLeft);
  u32(p + K.faultCode, kernel.faultCode);
  i32(p + K.faultPc, kernel.faultPc);
  u32(p + K.faultDomain, kernel.faultDomain);
  u32(p + K.runQueueLength, kernel.runQueue.length);
  for (let i = 0; i < kernel.runQueue.length; i++) u32(p + K.runQueue + 4 * i, kernel.runQueue[i]!);
  p += kernelLength;

  dv.setUint32(p, crc32(out.subarray(sealed, p), crc), true);
  if (p + CHECKSUM_SIZE !== total) throw new Error(`internal: image size ${p + CHECKSUM_SIZE} != ${total}`);
  return out;
}

// ---- reading -------------------------------------------------------------------------

/** Options of `decodeImage`. */
export interface DecodeOptions {
  /**
   * Hand `bytes` over to the store instead of copying the data pages out of it.
   * Data pages then are views of `bytes`' memory (when `bytes` starts 4-byte
   * aligned on a little-endian host; otherwise they are copied anyway): the caller
   * must not change `bytes` afterwards, and the whole buffer stays alive as long as
   * one of those pages does. `loadImageFile` does this with the buffer it read.
   * Default false: the store shares no memory with `bytes`.
   */
  readonly adopt?: boolean;
  /**
   * What the image may hold (see `DEFAULT_IMAGE_LIMITS`): checked against the header
   * before anything is allocated, and against each record before it is built.
   */
  readonly limits?: Partial<ImageLimits>;
}

/**
 * The store an image describes. Checks the header, lengths and checksum, reads every
 * section field by field, validates the whole machine, and only then builds the
 * store; any fault throws ImageError naming the section and byte offset.
 */
export function decodeImage(bytes: Uint8Array, options?: DecodeOptions): Store {
  const limits = resolveImageLimits(options?.limits);
  const { model, locator } = readModel(bytes, options?.adopt === true, limits);
  validateModel(model, locator);
  return storeFromModel(model);
}

const head = (offset: number): Where => ({ section: 'header', offset });

/** A little-endian u64 at `p`; all ones reads as UNLIMITED; past 2^53 it loses precision (and fails validation). */
const u64At = (dv: DataView, p: number): number => {
  const lo = dv.getUint32(p, true);
  const hi = dv.getUint32(p + 4, true);
  return lo === 0xffff_ffff && hi === 0xffff_ffff ? UNLIMITED : hi * U32 + lo;
};

/** Refuse a start of input that is not a whole header of an image this decoder reads. */
function checkHeader(bytes: Uint8Array, dv: DataView): void {
  const len = bytes.length;
  for (let i = 0; i < IMAGE_MAGIC.length; i++) {
    if (i >= len) refuse('truncated', head(len), `the input is ${len} bytes, shorter than the magic`);
    if (bytes[i] !== IMAGE_MAGIC[i]) refuse('bad-magic', head(i), 'this is not a KeyVM image');
  }
  if (len < HEADER_SIZE)
    refuse('truncated', head(len), `the input is ${len} bytes, shorter than the ${HEADER_SIZE}-byte header`);
  const version = dv.getUint32(H.version, true);
  if (version !== IMAGE_FORMAT_VERSION)
    refuse(
      'bad-version',
      head(H.version),
      `format version ${version}; this decoder reads ${IMAGE_FORMAT_VERSION}`,
    );
  const flags = dv.getUint32(H.flags, true);
  if (flags !== 0) refuse('bad-flags', head(H.flags), `flags 0x${flags.toString(16)}: no flags are defined`);
}

/**
 * How long the image is whose first bytes (the header at least) are `start`, as its
 * header says; refuses, as decodeImage would, a start that is not a header of an
 * image this decoder reads. A compressed file is checked with it before it is unpacked.
 */
export function imageLengthFromHeader(start: Uint8Array, limits?: Partial<ImageLimits>): number {
  const dv = new DataView(start.buffer, start.byteOffset, start.length);
  checkHeader(start, dv);
  let total = HEADER_SIZE + CHECKSUM_SIZE;
  for (const at of [H.metersLength, H.objectsLength, H.keysLength, H.kernelLength]) total += u64At(dv, at);
  checkHeaderLimits(dv, total, resolveImageLimits(limits));
  checkHeaderCounts(dv);
  return total;
}

/**
 * Refuse a header whose section lengths cannot hold its counts: sizes a compressed
 * file's header declares are checked with these before the file is unpacked.
 */
function checkHeaderCounts(dv: DataView): void {
  const meterCount = dv.getUint32(H.meterCount, true);
  const objectCount = dv.getUint32(H.objectCount, true);
  const keyCount = dv.getUint32(H.keyCount, true);
  const metersLength = u64At(dv, H.metersLength);
  const objectsLength = u64At(dv, H.objectsLength);
  const keysLength = u64At(dv, H.keysLength);
  const kernelLength = u64At(dv, H.kernelLength);
  if (metersLength !== M.size * meterCount)
    refuse(
      'bad-header',
      head(H.metersLength),
      `${meterCount} meters take ${M.size * meterCount} bytes, not ${metersLength}`,
    );
  if (objectCount > objectsLength / DATA.words)
    refuse('bad-header', head(H.objectCount), `${objectCount} objects cannot fit in ${objectsLength} bytes`);
  // Every record is at most its fixed part and a largest page: more bytes cannot be objects.
  const largest = Math.max(
    DATA.words + 4 * LIMITS.maxDataPageWords,
    DEV.transcript + 4 * LIMITS.maxDataPageWords,
  );
  if (objectsLength > objectCount * largest)
    refuse('bad-header', head(H.objectsLength), `${objectCount} objects cannot fill ${objectsLength} bytes`);
  if (keyCount > keysLength || keyCount < meterCount || keysLength > 13 * keyCount)
    refuse(
      'bad-header',
      head(H.keyCount),
      `${keyCount} keys do not fit ${keysLength} bytes and ${meterCount} meter keepers`,
    );
  if (kernelLength < K.runQueue || (kernelLength - K.runQueue) % 4 !== 0)
    refuse('bad-header', head(H.kernelLength), `a kernel section of ${kernelLength} bytes is not 48 + 4n`);
  if ((kernelLength - K.runQueue) / 4 > objectCount)
    refuse('bad-header', head(H.kernelLength), `a run queue longer than the ${objectCount} objects`);
}

/**
 * Refuse a header whose declared image size or counts pass the embedder's limits,
 * before any section is read (or a compressed file unpacked).
 */
function checkHeaderLimits(dv: DataView, total: number, limits: ImageLimits): void {
  checkLimit(total, limits.maxImageBytes, 'maxImageBytes', 'image size in bytes', head(H.metersLength));
  const meters = dv.getUint32(H.meterCount, true);
  const objects = dv.getUint32(H.objectCount, true);
  checkLimit(meters + objects, limits.maxObjects, 'maxObjects', 'meters and objects', head(H.objectCount));
  checkLimit(dv.getUint32(H.keyCount, true), limits.maxKeys, 'maxKeys', 'keys', head(H.keyCount));
}

/** What an image's header says: the first `HEADER_SIZE` (64) bytes, see the README. */
export interface ImageHeader {
  /** Format version (this decoder reads `IMAGE_FORMAT_VERSION`). */
  readonly version: number;
  readonly flags: number;
  /** The next object id the store will hand out. */
  readonly nextId: number;
  readonly meterCount: number;
  /** Pages and devices. */
  readonly objectCount: number;
  /** One keeper per meter plus every key page slot. */
  readonly keyCount: number;
  /** Byte lengths of the four sections, in order. */
  readonly sections: {
    readonly meters: number;
    readonly objects: number;
    readonly keys: number;
    readonly kernel: number;
  };
  /** Bytes of the whole image as the header declares it: header, sections and checksum. */
  readonly length: number;
}

/**
 * The header of the image that `bytes` starts with (the whole image, or at least its
 * first 64 bytes). Checks what decodeImage checks first (magic, version, flags) and
 * throws the same ImageError; the rest of the image is neither read nor checked.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  checkHeader(bytes, dv);
  const sections = {
    meters: u64At(dv, H.metersLength),
    objects: u64At(dv, H.objectsLength),
    keys: u64At(dv, H.keysLength),
    kernel: u64At(dv, H.kernelLength),
  };
  return {
    version: dv.getUint32(H.version, true),
    flags: dv.getUint32(H.flags, true),
    nextId: dv.getUint32(H.nextId, true),
    meterCount: dv.getUint32(H.meterCount, true),
    objectCount: dv.getUint32(H.objectCount, true),
    keyCount: dv.getUint32(H.keyCount, true),
    sections,
    length:
      HEADER_SIZE + sections.meters + sections.objects + sections.keys + sections.kernel + CHECKSUM_SIZE,
  };
}

function readModel(
  bytes: Uint8Array,
  adopt: boolean,
  limits: ImageLimits,
): { model: ImageModel; locator: Locator } {
  const len = bytes.length;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, len);
  checkHeader(bytes, dv);
  checkLimit(len, limits.maxImageBytes, 'maxImageBytes', 'image size in bytes', head(0));
  const u8 = (p: number) => dv.getUint8(p);
  const u32 = (p: number) => dv.getUint32(p, true);
  const i32 = (p: number) => dv.getInt32(p, true);
  const u64 = (p: number) => u64At(dv, p);

  const nextId = u32(H.nextId);
  const meterCount = u32(H.meterCount);
  const objectCount = u32(H.objectCount);
  const keyCount = u32(H.keyCount);
  const lengths: [ImageSection, number, number][] = [
    ['meters', H.metersLength, 0],
    ['objects', H.objectsLength, 0],
    ['keys', H.keysLength, 0],
    ['kernel', H.kernelLength, 0],
  ];
  // Sizes against the input's length before anything is allocated.
  let start = HEADER_SIZE;
  const starts: number[] = [];
  for (const entry of lengths) {
    const n = u64(entry[1]);
    if (!Number.isSafeInteger(n) || start + n > len - CHECKSUM_SIZE)
      refuse(
        'truncated',
        head(entry[1]),
        `the ${entry[0]} section of ${n} bytes runs past the end of the ${len}-byte input`,
      );
    entry[2] = n;
    starts.push(start);
    start += n;
  }
  const end = start + CHECKSUM_SIZE;
  if (len > end)
    refuse('trailing-bytes', { section: 'checksum', offset: end }, `${len - end} bytes follow the checksum`);
  const [metersStart, objectsStart, keysStart, kernelStart] = starts as [number, number, number, number];
  const [, objectsLength, keysLength, kernelLength] = lengths.map((e) => e[2]) as [
    number,
    number,
    number,
    number,
  ];
  checkHeaderCounts(dv);
  checkHeaderLimits(dv, end, limits);

  // The data words. Data pages are views of one Int32Array, `words32`, whose
  // element k is the word at byte wordsBase + 4k of the image: either `bytes`
  // itself (adopted) or one copy of the whole objects section (one allocation,
  // bounded by the input, made while the CRC-32 passes over it).
  const objectsEnd = objectsStart + objectsLength;
  let words32: Int32Array;
  let wordsBase: number;
  let copy: Uint8Array | undefined;
  if (adopt && LITTLE_ENDIAN_HOST && (bytes.byteOffset & 3) === 0) {
    words32 = new Int32Array(bytes.buffer, bytes.byteOffset, Math.floor(len / 4));
    wordsBase = 0;
  } else {
    words32 = new Int32Array(Math.ceil(objectsLength / 4));
    wordsBase = objectsStart;
    copy = new Uint8Array(words32.buffer, 0, objectsLength);
  }
  // The CRC-32 of bytes[0, sealed), extended a step at a time (copying the objects
  // section as it goes, while its bytes are in cache).
  let crc = 0;
  let sealed = 0;
  const sealTo = (to: number) => {
    const limit = Math.min(to, start);
    while (sealed < limit) {
      const stepEnd = Math.min(start, sealed + CRC_STEP);
      crc = crc32(bytes.subarray(sealed, stepEnd), crc);
      if (copy !== undefined && stepEnd > objectsStart && sealed < objectsEnd) {
        const from = Math.max(sealed, objectsStart);
        copy.set(bytes.subarray(from, Math.min(stepEnd, objectsEnd)), from - objectsStart);
      }
      sealed = stepEnd;
    }
  };
  const checkCrc = () => {
    sealTo(start);
    if (crc !== u32(start))
      refuse('bad-checksum', { section: 'checksum', offset: start }, 'the CRC-32 does not match the image');
  };

  // The whole checksum before any per-object structure is allocated: a damaged or
  // forged image costs one pass over its bytes (and the one copy above), no more.
  checkCrc();

  // Versions and resume generations this close to the wrap point are refused (see
  // ImageLimits.versionWrapMargin): the sweep there must be paid for by the bumps before it.
  const lastVersion = Math.max(-1, 0xffff_ffff - limits.versionWrapMargin);
  const checkWrap = (value: number, what: string, where: Where): void => {
    if (value > lastVersion)
      refuse(
        'limit',
        where,
        `${what} ${value} is within ${limits.versionWrapMargin} bumps of the wrap point 2^32-1 (versionWrapMargin)`,
      );
  };

  // ---- meters
  const meters: MeterRecord[] = new Array(meterCount);
  for (let i = 0, p = metersStart; i < meterCount; i++, p += M.size) {
    meters[i] = {
      id: u32(p + M.id),
      version: u32(p + M.version),
      resource: u32(p + M.resource),
      parent: u32(p + M.parent),
      remaining: u64(p + M.remaining),
      keeper: NO_KEY,
    };
    if (meters[i]!.version > lastVersion)
      checkWrap(meters[i]!.version, `meter #${meters[i]!.id} version`, {
        section: 'meters',
        offset: p + M.version,
      });
    const remaining = meters[i]!.remaining;
    if (Number.isSafeInteger(remaining) && remaining > limits.maxMeterAmount)
      checkLimit(remaining, limits.maxMeterAmount, 'maxMeterAmount', `meter #${meters[i]!.id} amount`, {
        section: 'meters',
        offset: p + M.remaining,
      });
  }

  // ---- objects
  const objects: ObjectRecord[] = new Array(objectCount);
  const objectAt = new Float64Array(objectCount);
  const keyPages: KeyPageRecord[] = [];
  let slotsDeclared = 0;
  let p = objectsStart;
  const obj = (offset: number): Where => ({ section: 'objects', offset });
  const need = (n: number, what: string) => {
    if (p + n > objectsEnd) refuse('truncated', obj(p), `${what} runs past the end of the objects section`);
  };
  /** The `n` words at byte `at` (4-byte aligned from objectsStart): a view, no copy. */
  const pageWords = (at: number, n: number): Int32Array => {
    const k = (at - wordsBase) / 4;
    const words = words32.subarray(k, k + n);
    if (!LITTLE_ENDIAN_HOST) {
      sealTo(at + 4 * n); // copied as bytes first, then turned around here
      for (let i = 0; i < n; i++) words[i] = i32(at + 4 * i);
    }
    return words;
  };
  for (let i = 0; i < objectCount; i++) {
    need(4, 'an object tag');
    objectAt[i] = p;
    const tag = u32(p);
    if (tag !== ObjectKind.dataPage && tag !== ObjectKind.keyPage && tag !== ObjectKind.device)
      refuse('bad-object', obj(p), `object tag ${tag} is not a data page (0), key page (1) or device (3)`);
    need(DATA.words, 'an object record'); // the smallest record: tag, id, version, two u32s
    const id = u32(p + DATA.id);
    const version = u32(p + DATA.version);
    if (version > lastVersion) checkWrap(version, `object #${id} version`, obj(p + DATA.version));
    if (tag === ObjectKind.dataPage) {
      const size = u32(p + DATA.size);
      // (Checks written out: no location or message is built for a good page.)
      if (size > maxPageSize(tag)) checkPageSize(tag, size, obj(p + DATA.size));
      if (size > limits.maxPageWords)
        checkLimit(
          size,
          limits.maxPageWords,
          'maxPageWords',
          `data page #${id} size in words`,
          obj(p + DATA.size),
        );
      if (p + DATA.words + 4 * size > objectsEnd)
        need(DATA.words + 4 * size, `data page #${id} of ${size} words`);
      // The core's page itself (a DataPageRecord): storeFromModel adopts it.
      objects[i] = new DataPage(id, version, pageWords(p + DATA.words, size), u32(p + DATA.meter));
      p += DATA.words + 4 * size;
    } else if (tag === ObjectKind.keyPage) {
      need(KPAGE.end, 'a key page record');
      const flags = u32(p + KPAGE.flags);
      if ((flags & ~FLAG_DOMAIN) !== 0)
        refuse('bad-object', obj(p + KPAGE.flags), `key page flags 0x${flags.toString(16)} are not 0 or 1`);
      const size = u32(p + KPAGE.size);
      if (size > maxPageSize(tag)) checkPageSize(tag, size, obj(p + KPAGE.size));
      if (size > limits.maxPageSlots)
        checkLimit(
          size,
          limits.maxPageSlots,
          'maxPageSlots',
          `key page #${id} size in slots`,
          obj(p + KPAGE.size),
        );
      slotsDeclared += size;
      if (meterCount + slotsDeclared > keyCount)
        refuse(
          'bad-header',
          obj(p + KPAGE.size),
          `key pages declare more slots than the header's ${keyCount} keys`,
        );
      const resumeGen = u32(p + KPAGE.resumeGen);
      if (resumeGen > lastVersion)
        checkWrap(resumeGen, `domain #${id} resume generation`, obj(p + KPAGE.resumeGen));
      const rec: KeyPageRecord = {
        kind: tag,
        id,
        version,
        meter: u32(p + KPAGE.meter),
        isDomain: flags === FLAG_DOMAIN,
        resumeGen,
        slots: new Array<KeyRecord>(size),
      };
      objects[i] = rec;
      keyPages.push(rec);
      p += KPAGE.end;
    } else {
      const size = u32(p + DEV.size);
      if (size > limits.maxPageWords)
        checkLimit(
          size,
          limits.maxPageWords,
          'maxPageWords',
          `device #${id} transcript in words`,
          obj(p + DEV.size),
        );
      if (p + DEV.transcript + 4 * size > objectsEnd)
        need(DEV.transcript + 4 * size, `device #${id} transcript of ${size} words`);
      const transcript: number[] = new Array(size);
      for (let j = 0, at = p + DEV.transcript; j < size; j++, at += 4) transcript[j] = i32(at);
      const rec: DeviceRecord = { kind: tag, id, version, deviceType: u32(p + DEV.deviceType), transcript };
      objects[i] = rec;
      p += DEV.transcript + 4 * size;
    }
  }
  if (p !== objectsEnd) refuse('trailing-bytes', obj(p), `${objectsEnd - p} bytes follow the last object`);
  if (meterCount + slotsDeclared !== keyCount)
    refuse(
      'bad-header',
      head(H.keyCount),
      `the header declares ${keyCount} keys, the objects ${meterCount + slotsDeclared}`,
    );

  // ---- keys
  const keyAt = new Float64Array(keyCount);
  const keysEnd = keysStart + keysLength;
  let q = keysStart;
  let n = 0;
  const readKey = (): KeyRecord => {
    // (Locations written out: nothing is allocated for a good key.)
    if (q >= keysEnd)
      refuse('truncated', { section: 'keys', offset: q }, 'a key runs past the end of the keys section');
    const kind = u8(q);
    const size = keySize(kind);
    if (size === 0) refuse('bad-key', { section: 'keys', offset: q }, `key kind ${kind} is unknown`);
    if (q + size > keysEnd)
      refuse('truncated', { section: 'keys', offset: q }, 'a key runs past the end of the keys section');
    keyAt[n++] = q;
    let k: KeyRecord;
    if (kind === KeyKind.null) k = NO_KEY;
    else if (kind === KeyKind.number) k = { kind, target: 0, version: 0, value: i32(q + 1) };
    else k = { kind, target: u32(q + 1), version: u32(q + 5), value: size === 13 ? u32(q + 9) : 0 };
    q += size;
    return k;
  };
  for (let i = 0; i < meterCount; i++) (meters[i] as { keeper: KeyRecord }).keeper = readKey();
  for (const page of keyPages) {
    const slots = page.slots as KeyRecord[];
    for (let s = 0; s < slots.length; s++) slots[s] = readKey();
  }
  if (q !== keysEnd)
    refuse('trailing-bytes', { section: 'keys', offset: q }, `${keysEnd - q} bytes follow the last key`);

  // ---- kernel
  const kp = kernelStart;
  const queueLength = u32(kp + K.runQueueLength);
  if (K.runQueue + 4 * queueLength !== kernelLength)
    refuse(
      'bad-header',
      { section: 'kernel', offset: kp + K.runQueueLength },
      `a run queue of ${queueLength} does not fill the ${kernelLength}-byte kernel section`,
    );
  const runQueue: number[] = new Array(queueLength);
  for (let i = 0; i < queueLength; i++) runQueue[i] = u32(kp + K.runQueue + 4 * i);
  const kernel: KernelState = {
    root: u32(kp + K.root),
    active: u32(kp + K.active),
    runQueue,
    steps: u64(kp + K.steps),
    quantum: u64(kp + K.quantum),
    sliceLeft: u64(kp + K.sliceLeft),
    faultCode: u32(kp + K.faultCode),
    faultPc: i32(kp + K.faultPc),
    faultDomain: u32(kp + K.faultDomain),
  };

  // Key offsets of each key page's first slot, for error locations (built on the
  // first failure that needs one).
  let slotBase: Map<number, number> | undefined;
  const firstSlot = (i: number): number => {
    if (slotBase === undefined) {
      slotBase = new Map();
      let base = meterCount;
      for (let j = 0; j < objectCount; j++) {
        const o = objects[j]!;
        if (o.kind === ObjectKind.keyPage) {
          slotBase.set(j, base);
          base += o.slots.length;
        }
      }
    }
    return slotBase.get(i)!;
  };
  const fieldOffset = (o: ObjectRecord, field: string | undefined, index = 0): number => {
    if (field === undefined) return 0;
    const table: Record<string, number> =
      o.kind === ObjectKind.dataPage ? DATA : o.kind === ObjectKind.keyPage ? KPAGE : DEV;
    return (table[field === 'transcript' ? 'transcript' : field] ?? 0) + 4 * index;
  };
  const locator: Locator = {
    nextId: () => head(H.nextId),
    meter: (i, field) => ({
      section: i < meterCount ? 'meters' : 'header',
      offset: i < meterCount ? metersStart + M.size * i + (M[field as keyof typeof M] ?? 0) : H.meterCount,
    }),
    object: (i, field, index) => obj(objectAt[i]! + fieldOffset(objects[i]!, field, index)),
    keeper: (i) => ({ section: 'keys', offset: keyAt[i]! }),
    slot: (i, s) => ({ section: 'keys', offset: keyAt[firstSlot(i) + s]! }),
    kernel: (field, index) => ({
      section: 'kernel',
      offset: kp + (K[field as keyof typeof K] ?? 0) + (index === undefined ? 0 : 4 * index),
    }),
  };
  return { model: { nextId, meters, objects, kernel }, locator };
}

const NO_KEY: KeyRecord = Object.freeze({ kind: KeyKind.null, target: 0, version: 0, value: 0 });
