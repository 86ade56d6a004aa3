// The binary program file (.kvm): encodeProgram writes it, decodeProgram reads it
// strictly, refusing anything malformed with a coded reason and a byte offset.
//
// Layout (little-endian):
//   0  magic "KVM\0"      4  u16 format version (1)   6  u16 flags (0)
//   8  u32 section count, then each section: u32 tag, u32 byte length, payload
//   CODE (required) code words as i32; DATA (optional) data words as i32;
//   DBUG (optional) u32 length + UTF-8 file name, u32 count + labels
//        (u8 section 0 code / 1 data, u32 address, u32 length + UTF-8 name),
//        u32 count + source map entries (u32 pc, u32 line, u32 col)
//   SRCS (optional) u32 count + files (u32 length + UTF-8 name, u8 1 when its text
//        follows as u32 length + UTF-8 text, else 0), u32 count (0, or one per
//        source map entry) + u32 file index of each source map entry
//   Sections appear in that order, each at most once, DATA and DBUG only when not
//   empty, CODE and DATA at most MAX_PAGE_WORDS (2^24) words each; a CRC-32 of every byte before it ends the file. Only the canonical
//   encoding of a program is accepted, so decode then encode gives the same bytes.
import { crc32 } from './crc32.js';
import {
  compareLabels,
  type Label,
  MAX_PAGE_WORDS,
  type Program,
  type SourceFile,
  type SourceMapEntry,
} from './program.js';

/** Every reason decodeProgram can refuse a file for. */
export const KVM_FORMAT_ERROR_CODES = Object.freeze({
  truncated: 'the input ends inside a field',
  'bad-magic': 'the file does not start with "KVM\\0"',
  'unsupported-version': 'a format version this reader does not know',
  'unknown-flags': 'header flag bits that are not defined',
  'unknown-section': 'a section tag that is not CODE, DATA, DBUG or SRCS',
  'duplicate-section': 'a section that appears twice',
  'section-order': 'sections not in the order CODE, DATA, DBUG, SRCS',
  'section-overrun': 'a section length that runs past the end of the input',
  'missing-code': 'no CODE section',
  'empty-section':
    'a DATA or DBUG section with nothing in it (the encoder leaves those out, so no file has one)',
  'misaligned-section': 'a CODE or DATA section whose length is not a multiple of 4',
  'oversized-section': 'a CODE or DATA section of more words than the largest page (2^24)',
  'trailing-bytes': 'bytes after the checksum',
  'bad-checksum': 'the CRC-32 does not match the contents',
  'bad-debug-info':
    'a DBUG or SRCS section that does not decode to a valid file name, label table, source map and file list',
} as const);

export type KvmFormatErrorCode = keyof typeof KVM_FORMAT_ERROR_CODES;

/** A .kvm file that decodeProgram refuses: what is wrong and at which byte offset. */
export class KvmFormatError extends Error {
  override readonly name = 'KvmFormatError';
  readonly code: KvmFormatErrorCode;
  readonly offset: number;
  readonly reason: string;

  constructor(code: KvmFormatErrorCode, offset: number, reason: string) {
    super(`malformed .kvm file at byte ${offset}: ${reason}`);
    this.code = code;
    this.offset = offset;
    this.reason = reason;
  }
}

/** "KVM\0". */
export const KVM_MAGIC: Uint8Array = Uint8Array.of(0x4b, 0x56, 0x4d, 0x00);
/** The format version this package writes and reads. */
export const KVM_FORMAT_VERSION = 1;

const fourcc = (s: string): number =>
  (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;

/** Section tags in the order they must appear. */
const SECTIONS = ['CODE', 'DATA', 'DBUG', 'SRCS'] as const;
type SectionName = (typeof SECTIONS)[number];
const SECTION_BY_TAG = new Map<number, SectionName>(SECTIONS.map((name) => [fourcc(name), name]));

const HEADER_BYTES = 12;
const SECTION_HEADER_BYTES = 8;
const LABEL_MIN_BYTES = 9;
const SOURCE_MAP_ENTRY_BYTES = 12;
const U32_MAX = 0xffff_ffff;

const utf8Encoder = new TextEncoder();
/** Strings must be well-formed so that they survive UTF-8 unchanged. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Encodes a program canonically: the same program always gives the same bytes.
 * Empty data and empty debug information are left out; labels and the source
 * map are written in canonical order. An empty `source` is treated as absent.
 * Throws a RangeError for a program that decodeProgram would refuse.
 */
export function encodeProgram(program: Program): Uint8Array {
  const labels = [...program.labels].sort(compareLabels);
  const sourceMap = [...program.sourceMap].sort((a, b) => a.pc - b.pc);
  checkEncodable(program, labels, sourceMap);
  const file = utf8Encoder.encode(program.source ?? '');
  const names = labels.map((label) => utf8Encoder.encode(label.name));
  const hasDebug = file.length > 0 || labels.length > 0 || sourceMap.length > 0;
  const files = program.files ?? [];
  const fileNames = files.map((f) => utf8Encoder.encode(f.name));
  const fileTexts = files.map((f) => (f.text === undefined ? undefined : utf8Encoder.encode(f.text)));
  const indexed = sourceMap.some((e) => (e.file ?? 0) !== 0);

  const sections: { name: SectionName; length: number }[] = [
    { name: 'CODE', length: program.code.length * 4 },
  ];
  if (program.data.length > 0) sections.push({ name: 'DATA', length: program.data.length * 4 });
  if (hasDebug) {
    const labelBytes = names.reduce((sum, name) => sum + LABEL_MIN_BYTES + name.length, 0);
    sections.push({
      name: 'DBUG',
      length: 4 + file.length + 4 + labelBytes + 4 + sourceMap.length * SOURCE_MAP_ENTRY_BYTES,
    });
  }
  if (files.length > 0) {
    let length = 4 + 4 + (indexed ? sourceMap.length * 4 : 0);
    files.forEach((_, i) => {
      length += 4 + fileNames[i]!.length + 1 + (fileTexts[i] === undefined ? 0 : 4 + fileTexts[i]!.length);
    });
    sections.push({ name: 'SRCS', length });
  }
  const total = HEADER_BYTES + sections.reduce((sum, s) => sum + SECTION_HEADER_BYTES + s.length, 0) + 4;

  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let o = 0;
  const u8 = (v: number) => view.setUint8(o++, v);
  const u32 = (v: number) => {
    view.setUint32(o, v, true);
    o += 4;
  };
  const i32s = (words: Int32Array) => {
    for (const w of words) {
      view.setInt32(o, w, true);
      o += 4;
    }
  };
  const blob = (b: Uint8Array) => {
    u32(b.length);
    bytes.set(b, o);
    o += b.length;
  };

  bytes.set(KVM_MAGIC, 0);
  o = 4;
  view.setUint16(4, KVM_FORMAT_VERSION, true);
  view.setUint16(6, 0, true);
  o = 8;
  u32(sections.length);
  for (const section of sections) {
    u32(fourcc(section.name));
    u32(section.length);
    if (section.name === 'CODE') i32s(program.code);
    else if (section.name === 'DATA') i32s(program.data);
    else if (section.name === 'SRCS') {
      u32(files.length);
      files.forEach((_, i) => {
        blob(fileNames[i]!);
        const text = fileTexts[i];
        u8(text === undefined ? 0 : 1);
        if (text !== undefined) blob(text);
      });
      u32(indexed ? sourceMap.length : 0);
      if (indexed) for (const entry of sourceMap) u32(entry.file ?? 0);
    } else {
      blob(file);
      u32(labels.length);
      labels.forEach((label, i) => {
        u8(label.section === 'code' ? 0 : 1);
        u32(label.address);
        blob(names[i]!);
      });
      u32(sourceMap.length);
      for (const entry of sourceMap) {
        u32(entry.pc);
        u32(entry.line);
        u32(entry.col);
      }
    }
  }
  u32(crc32(bytes, 0, o));
  return bytes;
}

function checkEncodable(
  program: Program,
  labels: readonly Label[],
  sourceMap: readonly SourceMapEntry[],
): void {
  const fail = (why: string): never => {
    throw new RangeError(`encodeProgram: ${why}`);
  };
  if (program.source !== undefined && LONE_SURROGATE.test(program.source))
    fail('source name is not well-formed');
  for (const [section, words] of [
    ['code', program.code],
    ['data', program.data],
  ] as const) {
    if (words.length > MAX_PAGE_WORDS)
      fail(`${section} of ${words.length} words is larger than a page (at most ${MAX_PAGE_WORDS} words)`);
  }
  const seen = new Set<string>();
  for (const { name, address, section } of labels) {
    if (name === '' || LONE_SURROGATE.test(name))
      fail(`label name ${JSON.stringify(name)} is empty or not well-formed`);
    if (seen.has(name)) fail(`label '${name}' appears twice`);
    seen.add(name);
    if (section !== 'code' && section !== 'data') fail(`label '${name}' has section ${String(section)}`);
    const limit = section === 'code' ? program.code.length : program.data.length;
    if (!Number.isInteger(address) || address < 0 || address > limit) {
      fail(`label '${name}' address ${address} is outside its ${section} section (0..${limit})`);
    }
  }
  const files = program.files;
  if (files !== undefined) {
    if (files.length === 0) fail('files is empty (leave it out instead)');
    if (files[0]!.name !== (program.source ?? '')) fail('the first file is not the source file');
    for (const f of files)
      if (LONE_SURROGATE.test(f.name) || (f.text !== undefined && LONE_SURROGATE.test(f.text)))
        fail(`file ${JSON.stringify(f.name)} has a name or text that is not well-formed`);
  }
  let last = -1;
  for (const { pc, line, col, file } of sourceMap) {
    if (file !== undefined && (!Number.isInteger(file) || file < 0 || file >= (files?.length ?? 1)))
      fail(`source map file index ${file} names no file`);
    if (!Number.isInteger(pc) || pc <= last || pc >= program.code.length)
      fail(`source map pc ${pc} is repeated or outside the code`);
    for (const v of [line, col])
      if (!Number.isInteger(v) || v < 1 || v > U32_MAX) fail(`source map position ${line}:${col} is invalid`);
    last = pc;
  }
}

/** Reads fields in order, refusing any that runs past `end`. */
class Reader {
  readonly #view: DataView;
  offset: number;
  readonly #end: number;
  readonly #overrun: KvmFormatErrorCode;

  constructor(bytes: Uint8Array, offset: number, end: number, overrun: KvmFormatErrorCode) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
    this.#end = end;
    this.#overrun = overrun;
  }

  get remaining(): number {
    return this.#end - this.offset;
  }

  #need(n: number, what: string): void {
    if (n > this.remaining) throw new KvmFormatError(this.#overrun, this.offset, `${what} runs past the end`);
  }

  u8(what: string): number {
    this.#need(1, what);
    return this.#view.getUint8(this.offset++);
  }

  u16(what: string): number {
    this.#need(2, what);
    const v = this.#view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32(what: string): number {
    this.#need(4, what);
    const v = this.#view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  /** `count` little-endian i32 words; the caller has checked they fit. */
  i32s(count: number): Int32Array {
    const words = new Int32Array(count);
    for (let i = 0; i < count; i++) words[i] = this.#view.getInt32(this.offset + i * 4, true);
    this.offset += count * 4;
    return words;
  }

  /** A u32 byte length followed by that many bytes of UTF-8. */
  utf8(what: string): string {
    const at = this.offset;
    const length = this.u32(`${what} length`);
    this.#need(length, what);
    const slice = new Uint8Array(this.#view.buffer, this.#view.byteOffset + this.offset, length);
    this.offset += length;
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(slice);
    } catch {
      throw new KvmFormatError('bad-debug-info', at, `${what} is not valid UTF-8`);
    }
  }
}

/** Reads a .kvm file. Throws KvmFormatError, naming the first problem and its byte offset. */
export function decodeProgram(bytes: Uint8Array): Program {
  const r = new Reader(bytes, 0, bytes.length, 'truncated');
  const magicBytes = Math.min(4, bytes.length);
  for (let i = 0; i < magicBytes; i++) {
    if (bytes[i] !== KVM_MAGIC[i])
      throw new KvmFormatError('bad-magic', i, 'not a .kvm file: it must start with "KVM\\0"');
  }
  if (bytes.length < 4)
    throw new KvmFormatError('truncated', bytes.length, 'the input ends inside the magic number');
  r.offset = 4;
  const version = r.u16('format version');
  if (version !== KVM_FORMAT_VERSION) {
    throw new KvmFormatError(
      'unsupported-version',
      4,
      `format version ${version} is not supported (only ${KVM_FORMAT_VERSION})`,
    );
  }
  const flags = r.u16('flags');
  if (flags !== 0)
    throw new KvmFormatError('unknown-flags', 6, `unknown flags 0x${flags.toString(16).padStart(4, '0')}`);
  const count = r.u32('section count');

  const found = new Map<SectionName, { start: number; length: number }>();
  let lastIndex = -1;
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    if (r.remaining < SECTION_HEADER_BYTES + 4) {
      throw new KvmFormatError(
        'truncated',
        at,
        `the input ends where section ${i + 1} of ${count} should start`,
      );
    }
    const tag = r.u32('section tag');
    const name = SECTION_BY_TAG.get(tag);
    if (name === undefined)
      throw new KvmFormatError(
        'unknown-section',
        at,
        `unknown section tag 0x${tag.toString(16).padStart(8, '0')}`,
      );
    if (found.has(name)) throw new KvmFormatError('duplicate-section', at, `second ${name} section`);
    const index = SECTIONS.indexOf(name);
    if (index < lastIndex)
      throw new KvmFormatError('section-order', at, `${name} section after ${SECTIONS[lastIndex]}`);
    lastIndex = index;
    const length = r.u32(`${name} section length`);
    if (length > r.remaining) {
      throw new KvmFormatError(
        'section-overrun',
        at + 4,
        `${name} section of ${length} bytes runs past the end (${r.remaining} left)`,
      );
    }
    const words = name === 'CODE' || name === 'DATA';
    if (words && length % 4 !== 0) {
      throw new KvmFormatError(
        'misaligned-section',
        at + 4,
        `${name} section length ${length} is not a multiple of 4`,
      );
    }
    if (words && length / 4 > MAX_PAGE_WORDS) {
      throw new KvmFormatError(
        'oversized-section',
        at + 4,
        `${name} section of ${length / 4} words is larger than a page (at most ${MAX_PAGE_WORDS} words)`,
      );
    }
    if (name === 'DATA' && length === 0) throw new KvmFormatError('empty-section', at, 'empty DATA section');
    found.set(name, { start: r.offset, length });
    r.offset += length;
  }
  const code = found.get('CODE');
  if (code === undefined) throw new KvmFormatError('missing-code', 8, 'no CODE section');

  const checksumAt = r.offset;
  const stored = r.u32('checksum');
  if (r.remaining > 0) {
    throw new KvmFormatError(
      'trailing-bytes',
      r.offset,
      `${r.remaining} byte${r.remaining === 1 ? '' : 's'} after the checksum`,
    );
  }
  const actual = crc32(bytes, 0, checksumAt);
  if (stored !== actual) {
    throw new KvmFormatError(
      'bad-checksum',
      checksumAt,
      `checksum 0x${hex(stored)} does not match the contents (0x${hex(actual)})`,
    );
  }

  const words = (section: { start: number; length: number } | undefined): Int32Array => {
    if (section === undefined) return new Int32Array(0);
    r.offset = section.start;
    return r.i32s(section.length / 4);
  };
  const program = { code: words(code), data: words(found.get('DATA')) };
  const debug = found.get('DBUG');
  const decoded: Program =
    debug === undefined
      ? { ...program, labels: [], sourceMap: [] }
      : { ...program, ...decodeDebug(bytes, debug.start, debug.start + debug.length, program) };
  const sources = found.get('SRCS');
  if (sources === undefined) return decoded;
  return decodeSources(bytes, sources.start, sources.start + sources.length, decoded);
}

/** The SRCS section: the files and the file index of each source map entry. */
function decodeSources(bytes: Uint8Array, start: number, end: number, program: Program): Program {
  const r = new Reader(bytes, start, end, 'bad-debug-info');
  const bad = (at: number, why: string): never => {
    throw new KvmFormatError('bad-debug-info', at, why);
  };
  const countAt = r.offset;
  const count = r.u32('file count');
  if (count === 0) bad(countAt, 'SRCS section with no files');
  if (count > r.remaining / 5) bad(countAt, `${count} files cannot fit in the SRCS section`);
  const files: SourceFile[] = [];
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const name = r.utf8('file name');
    const flag = r.u8('file text flag');
    if (flag > 1) bad(r.offset - 1, `file text flag ${flag} is neither 0 nor 1`);
    files.push(flag === 1 ? { name, text: r.utf8('file text') } : { name });
    if (i === 0 && name !== (program.source ?? '')) bad(at, 'the first file is not the DBUG file name');
  }
  const indexAt = r.offset;
  const indexCount = r.u32('file index count');
  const entries = program.sourceMap;
  if (indexCount !== 0 && indexCount !== entries.length)
    bad(indexAt, `${indexCount} file indexes for ${entries.length} source map entries`);
  if (indexCount > r.remaining / 4) bad(indexAt, `${indexCount} file indexes cannot fit in the SRCS section`);
  let sourceMap = entries;
  if (indexCount > 0) {
    let any = false;
    sourceMap = entries.map((e) => {
      const at = r.offset;
      const file = r.u32('file index');
      if (file >= count) bad(at, `file index ${file} names no file (${count} listed)`);
      if (file === 0) return e;
      any = true;
      return { ...e, file };
    });
    if (!any) bad(indexAt, 'file indexes that are all 0 (the encoder leaves them out)');
  }
  if (r.remaining > 0) bad(r.offset, `${r.remaining} unused bytes at the end of the SRCS section`);
  return { ...program, sourceMap, files };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function decodeDebug(
  bytes: Uint8Array,
  start: number,
  end: number,
  { code, data }: { code: Int32Array; data: Int32Array },
): Pick<Program, 'labels' | 'sourceMap' | 'source'> {
  const r = new Reader(bytes, start, end, 'bad-debug-info');
  const bad = (at: number, why: string): never => {
    throw new KvmFormatError('bad-debug-info', at, why);
  };
  const source = r.utf8('file name');

  const labelCountAt = r.offset;
  const labelCount = r.u32('label count');
  if (labelCount > r.remaining / LABEL_MIN_BYTES)
    bad(labelCountAt, `${labelCount} labels cannot fit in the debug section`);
  const labels: Label[] = [];
  const names = new Set<string>();
  for (let i = 0; i < labelCount; i++) {
    const at = r.offset;
    const sectionByte = r.u8('label section');
    if (sectionByte > 1) bad(at, `label section ${sectionByte} is neither 0 (code) nor 1 (data)`);
    const section = sectionByte === 0 ? 'code' : 'data';
    const address = r.u32('label address');
    const name = r.utf8('label name');
    if (name === '') bad(at, 'empty label name');
    if (names.has(name)) bad(at, `label '${name}' appears twice`);
    const limit = section === 'code' ? code.length : data.length;
    if (address > limit)
      bad(at + 1, `label '${name}' address ${address} is past the end of the ${section} (${limit} words)`);
    const label: Label = { name, address, section };
    const previous = labels[labels.length - 1];
    if (previous !== undefined && compareLabels(previous, label) > 0)
      bad(at, `label '${name}' is out of order`);
    names.add(name);
    labels.push(label);
  }

  const entryCountAt = r.offset;
  const entryCount = r.u32('source map count');
  if (entryCount > r.remaining / SOURCE_MAP_ENTRY_BYTES)
    bad(entryCountAt, `${entryCount} source map entries cannot fit in the debug section`);
  const sourceMap: SourceMapEntry[] = [];
  let lastPc = -1;
  for (let i = 0; i < entryCount; i++) {
    const at = r.offset;
    const pc = r.u32('source map pc');
    const line = r.u32('source map line');
    const col = r.u32('source map column');
    if (pc <= lastPc) bad(at, `source map pc ${pc} is not after ${lastPc}`);
    if (pc >= code.length) bad(at, `source map pc ${pc} is past the end of the code (${code.length} words)`);
    if (line === 0 || col === 0) bad(at + 4, `source map position ${line}:${col} is not 1-based`);
    sourceMap.push({ pc, line, col });
    lastPc = pc;
  }
  if (r.remaining > 0) bad(r.offset, `${r.remaining} unused bytes at the end of the debug section`);
  if (source === '' && labelCount === 0 && entryCount === 0) {
    throw new KvmFormatError(
      'empty-section',
      start - SECTION_HEADER_BYTES,
      'DBUG section without a file name, labels or source map',
    );
  }
  return source === '' ? { labels, sourceMap } : { labels, sourceMap, source };
}
