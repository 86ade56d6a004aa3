// The optional debug section of an image: labels, source maps, file names and
// source text for code pages, carried after the canonical state and outside imageHash.
//
// Layout (little-endian), right after the state's CRC-32:
//   0   magic 89 4B 56 4D 44 0D 0A 1A ("\x89KVMD\r\n\x1a")
//   8   u32 debug format version (1, or 2 when `domains` is given)
//   12  u32 payload length n (at most MAX_DEBUG_BYTES)
//   16  n bytes: UTF-8 JSON of an ImageDebugInfo, written canonically
//   16+n u32 CRC-32 of every byte of the section before it
// Nothing may follow it. The state (everything before it) is the image's identity.
// Native CRC-32 in Node, plain ECMAScript elsewhere (package.json `imports`).
import { crc32 } from '#platform';
import { refuse } from './errors.js';
import { checkLimit, type ImageLimits } from './limits.js';

/** The magic that opens a debug section. */
export const DEBUG_MAGIC: Uint8Array = Uint8Array.of(0x89, 0x4b, 0x56, 0x4d, 0x44, 0x0d, 0x0a, 0x1a);
/**
 * The newest debug section format version this package writes and reads. Version 1
 * has `programs` only; version 2 adds `domains`. The encoder writes the lowest version
 * that holds what it is given (1 without domains), so older readers still read it.
 */
export const DEBUG_FORMAT_VERSION = 2;
/** The oldest debug section format version this package reads. */
export const DEBUG_FORMAT_OLDEST = 1;
/** The largest debug payload accepted (bytes of JSON): 16 MiB. */
export const MAX_DEBUG_BYTES = 16 * 1024 * 1024;
/** The most programs, files, labels or source map entries the section may describe. */
export const MAX_DEBUG_ENTRIES = 1 << 24;

const DEBUG_HEADER_BYTES = 16;
const CRC_BYTES = 4;
/** The state header: section lengths (u64 each) at 32, 40, 48, 56; the state is 64 + their sum + 4 bytes. */
const STATE_HEADER_BYTES = 64;

/** A source file a program was assembled from; `text` when the source was kept. */
export interface DebugFile {
  readonly name: string;
  readonly text?: string;
}

/** A named word offset into a program's code page or initial data page. */
export interface DebugLabel {
  readonly name: string;
  readonly address: number;
  readonly section: 'code' | 'data';
}

/** Where the instruction at code offset `pc` came from: 1-based line and column of `files[file]`. */
export interface DebugSourcePosition {
  readonly pc: number;
  readonly line: number;
  readonly col: number;
  /** Index into the program's `files` (0 when absent). */
  readonly file?: number;
}

/** What is known about the program running from one code page of the image. */
export interface DebugProgram {
  /** Object id of the code page (a data page) in the image. */
  readonly codePage: number;
  /** Object id of the program's initial data page, which its data labels point into (0: none). */
  readonly dataPage: number;
  readonly files: readonly DebugFile[];
  readonly labels: readonly DebugLabel[];
  /** By pc, one entry per instruction start. */
  readonly sourceMap: readonly DebugSourcePosition[];
}

/**
 * What a domain was made from (format version 2): the code page and the pc it was
 * first to be entered at. Its name is the code label at `entry` in the program of
 * `codePage` (tools resolve it when they print; it is never part of the state).
 */
export interface DebugDomain {
  /** Object id of the domain's key page in the image. */
  readonly domain: number;
  /** Object id of the code page the domain was made to run. */
  readonly codePage: number;
  /** The pc (word offset into the code page) the domain was made to start at. */
  readonly entry: number;
}

export interface ImageDebugInfo {
  /** At most one per code page, in ascending `codePage` order. */
  readonly programs: readonly DebugProgram[];
  /** At most one per domain, in ascending `domain` order (format version 2; absent in 1). */
  readonly domains?: readonly DebugDomain[];
}

/** Bounds and validates a value read from JSON as ImageDebugInfo; throws ImageError('bad-debug-info'). */
function checkDebugInfo(value: unknown, at: number, version: number): ImageDebugInfo {
  const bad = (why: string): never => refuse('bad-debug-info', { section: 'debug', offset: at }, why);
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const onlyKeys = (o: Record<string, unknown>, keys: readonly string[], what: string): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) bad(`${what} has an unknown field '${k}'`);
  };
  const count = (v: unknown, what: string, min: number, max = 0xffff_ffff): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      bad(`${what} must be a whole number from ${min} to ${max}`);
    return v as number;
  };
  const list = (v: unknown, what: string): unknown[] => {
    if (!Array.isArray(v)) bad(`${what} must be a list`);
    if ((v as unknown[]).length > MAX_DEBUG_ENTRIES)
      bad(`${what} has more than ${MAX_DEBUG_ENTRIES} entries`);
    return v as unknown[];
  };
  const text = (v: unknown, what: string): string => {
    if (typeof v !== 'string') bad(`${what} must be a string`);
    return v as string;
  };
  if (!isObject(value)) return bad('the debug payload is not a JSON object');
  onlyKeys(value, version >= 2 ? ['programs', 'domains'] : ['programs'], 'the debug payload');
  let lastPage = 0;
  const programs = list(value.programs, 'programs').map((p, i): DebugProgram => {
    const where = `programs[${i}]`;
    if (!isObject(p)) return bad(`${where} is not an object`);
    onlyKeys(p, ['codePage', 'dataPage', 'files', 'labels', 'sourceMap'], where);
    const codePage = count(p.codePage, `${where}.codePage`, 1);
    if (codePage <= lastPage) bad(`${where}.codePage ${codePage} is not after ${lastPage}`);
    lastPage = codePage;
    const dataPage = count(p.dataPage, `${where}.dataPage`, 0);
    const files = list(p.files, `${where}.files`).map((f, j): DebugFile => {
      if (!isObject(f)) return bad(`${where}.files[${j}] is not an object`);
      onlyKeys(f, ['name', 'text'], `${where}.files[${j}]`);
      const name = text(f.name, `${where}.files[${j}].name`);
      return f.text === undefined ? { name } : { name, text: text(f.text, `${where}.files[${j}].text`) };
    });
    const labels = list(p.labels, `${where}.labels`).map((l, j): DebugLabel => {
      if (!isObject(l)) return bad(`${where}.labels[${j}] is not an object`);
      onlyKeys(l, ['name', 'address', 'section'], `${where}.labels[${j}]`);
      const section = l.section;
      if (section !== 'code' && section !== 'data')
        bad(`${where}.labels[${j}].section must be "code" or "data"`);
      const name = text(l.name, `${where}.labels[${j}].name`);
      if (name === '') bad(`${where}.labels[${j}].name is empty`);
      return {
        name,
        address: count(l.address, `${where}.labels[${j}].address`, 0),
        section: section as 'code',
      };
    });
    let lastPc = -1;
    const sourceMap = list(p.sourceMap, `${where}.sourceMap`).map((e, j): DebugSourcePosition => {
      const at = `${where}.sourceMap[${j}]`;
      if (!isObject(e)) return bad(`${at} is not an object`);
      onlyKeys(e, ['pc', 'line', 'col', 'file'], at);
      const pc = count(e.pc, `${at}.pc`, 0);
      if (pc <= lastPc) bad(`${at}.pc ${pc} is not after ${lastPc}`);
      lastPc = pc;
      const entry = { pc, line: count(e.line, `${at}.line`, 1), col: count(e.col, `${at}.col`, 1) };
      if (e.file === undefined) return entry;
      const file = count(e.file, `${at}.file`, 0);
      if (file >= files.length) bad(`${at}.file ${file} names no file (${files.length} listed)`);
      return { ...entry, file };
    });
    return { codePage, dataPage, files, labels, sourceMap };
  });
  if (value.domains === undefined) return { programs };
  let lastDomain = 0;
  const domains = list(value.domains, 'domains').map((d, i): DebugDomain => {
    const where = `domains[${i}]`;
    if (!isObject(d)) return bad(`${where} is not an object`);
    onlyKeys(d, ['domain', 'codePage', 'entry'], where);
    const domain = count(d.domain, `${where}.domain`, 1);
    if (domain <= lastDomain) bad(`${where}.domain ${domain} is not after ${lastDomain}`);
    lastDomain = domain;
    return {
      domain,
      codePage: count(d.codePage, `${where}.codePage`, 1),
      entry: count(d.entry, `${where}.entry`, 0),
    };
  });
  return { programs, domains };
}

/** The lowest format version that holds `info`. */
function versionFor(info: ImageDebugInfo): number {
  return info.domains === undefined ? 1 : 2;
}

/** The canonical JSON of debug info: fixed field order, programs by code page. */
function canonicalJson(info: ImageDebugInfo): string {
  const programs = [...info.programs]
    .sort((a, b) => a.codePage - b.codePage)
    .map((p) => ({
      codePage: p.codePage,
      dataPage: p.dataPage,
      files: p.files.map((f) => (f.text === undefined ? { name: f.name } : { name: f.name, text: f.text })),
      labels: p.labels.map((l) => ({ name: l.name, address: l.address, section: l.section })),
      sourceMap: p.sourceMap.map((e) =>
        e.file === undefined || e.file === 0
          ? { pc: e.pc, line: e.line, col: e.col }
          : { pc: e.pc, line: e.line, col: e.col, file: e.file },
      ),
    }));
  if (info.domains === undefined) return JSON.stringify({ programs });
  const domains = [...info.domains]
    .sort((a, b) => a.domain - b.domain)
    .map((d) => ({ domain: d.domain, codePage: d.codePage, entry: d.entry }));
  return JSON.stringify({ programs, domains });
}

/** The bytes of a debug section for `info`; throws ImageError for info the reader would refuse. */
export function encodeDebugSection(info: ImageDebugInfo): Uint8Array {
  const json = canonicalJson(info);
  const version = versionFor(info);
  checkDebugInfo(JSON.parse(json), 0, version);
  const payload = new TextEncoder().encode(json);
  if (payload.length > MAX_DEBUG_BYTES)
    refuse(
      'bad-debug-info',
      { section: 'debug', offset: 12 },
      `the debug payload of ${payload.length} bytes is larger than ${MAX_DEBUG_BYTES}`,
    );
  const out = new Uint8Array(DEBUG_HEADER_BYTES + payload.length + CRC_BYTES);
  const dv = new DataView(out.buffer);
  out.set(DEBUG_MAGIC, 0);
  dv.setUint32(8, version, true);
  dv.setUint32(12, payload.length, true);
  out.set(payload, DEBUG_HEADER_BYTES);
  dv.setUint32(
    DEBUG_HEADER_BYTES + payload.length,
    crc32(out.subarray(0, DEBUG_HEADER_BYTES + payload.length)),
    true,
  );
  return out;
}

/** An image file's bytes: the state (encodeImage's output) followed by the debug section for `info`. */
export function attachDebugInfo(state: Uint8Array, info: ImageDebugInfo): Uint8Array {
  const section = encodeDebugSection(info);
  const out = new Uint8Array(state.length + section.length);
  out.set(state, 0);
  out.set(section, state.length);
  return out;
}

/**
 * How many of `bytes` are the canonical state, as its header says: everything when
 * the header is short or says more than there is (the decoder then says what is wrong).
 */
export function stateLength(bytes: Uint8Array): number {
  if (bytes.length < STATE_HEADER_BYTES + CRC_BYTES) return bytes.length;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let total = STATE_HEADER_BYTES + CRC_BYTES;
  for (let at = 32; at < 64; at += 8) {
    const hi = dv.getUint32(at + 4, true);
    if (hi !== 0) return bytes.length;
    total += dv.getUint32(at, true);
  }
  return Math.min(total, bytes.length);
}

/** True when a debug section starts at `offset`. */
function debugAt(bytes: Uint8Array, offset: number): boolean {
  if (bytes.length - offset < DEBUG_MAGIC.length) return false;
  for (let i = 0; i < DEBUG_MAGIC.length; i++) if (bytes[offset + i] !== DEBUG_MAGIC[i]) return false;
  return true;
}

/**
 * The state and the debug section of an image file. Bytes after the state that do
 * not start with the debug magic are left on the state, for the decoder to refuse
 * as trailing bytes. A debug section is checked whole (header, length, checksum,
 * JSON shape); a bad one throws ImageError('bad-debug-info'). With `limits`, a file
 * with a debug section larger than `limits.maxImageBytes` in all throws ImageError('limit')
 * before the section is read.
 */
export function splitImage(
  bytes: Uint8Array,
  limits?: Partial<Pick<ImageLimits, 'maxImageBytes'>>,
): { state: Uint8Array; debug: ImageDebugInfo | undefined } {
  const end = stateLength(bytes);
  if (end === bytes.length || !debugAt(bytes, end)) return { state: bytes, debug: undefined };
  const where = (offset: number) => ({ section: 'debug' as const, offset: end + offset });
  if (limits?.maxImageBytes !== undefined)
    checkLimit(
      bytes.length,
      limits.maxImageBytes,
      'maxImageBytes',
      'image file size in bytes (state and debug section)',
      where(0),
    );
  const left = bytes.length - end;
  if (left < DEBUG_HEADER_BYTES + CRC_BYTES)
    refuse('bad-debug-info', where(left), `the debug section is cut short (${left} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + end, left);
  const version = dv.getUint32(8, true);
  if (version < DEBUG_FORMAT_OLDEST || version > DEBUG_FORMAT_VERSION)
    refuse(
      'bad-debug-info',
      where(8),
      `debug format version ${version}; this reader reads ${DEBUG_FORMAT_OLDEST} to ${DEBUG_FORMAT_VERSION}`,
    );
  const length = dv.getUint32(12, true);
  if (length > MAX_DEBUG_BYTES)
    refuse(
      'bad-debug-info',
      where(12),
      `a debug payload of ${length} bytes is larger than ${MAX_DEBUG_BYTES}`,
    );
  if (DEBUG_HEADER_BYTES + length + CRC_BYTES !== left)
    refuse(
      'bad-debug-info',
      where(12),
      `the debug payload of ${length} bytes does not end where the file does (${left - DEBUG_HEADER_BYTES - CRC_BYTES} bytes follow the header)`,
    );
  const stored = dv.getUint32(DEBUG_HEADER_BYTES + length, true);
  const actual = crc32(bytes.subarray(end, end + DEBUG_HEADER_BYTES + length));
  if (stored !== actual)
    refuse('bad-debug-info', where(DEBUG_HEADER_BYTES + length), 'the debug section checksum does not match');
  let json: unknown;
  try {
    json = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(
        bytes.subarray(end + DEBUG_HEADER_BYTES, end + DEBUG_HEADER_BYTES + length),
      ),
    );
  } catch {
    refuse('bad-debug-info', where(DEBUG_HEADER_BYTES), 'the debug payload is not UTF-8 JSON');
  }
  return { state: bytes.subarray(0, end), debug: checkDebugInfo(json, end + DEBUG_HEADER_BYTES, version) };
}

/** The debug information an image file carries, if any (the state is not decoded). */
export function imageDebugInfo(
  bytes: Uint8Array,
  limits?: Partial<Pick<ImageLimits, 'maxImageBytes'>>,
): ImageDebugInfo | undefined {
  return splitImage(bytes, limits).debug;
}
