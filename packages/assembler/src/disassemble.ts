// The disassembler: code words (and optionally the data page) to flat syntax,
// one instruction a line with its address, which assembles back to the same words.
import { instructionByCode, Op } from '@keyvm/isa';
import { isIdentifier } from './lexer.js';
import { compareLabels, type Label, type Program, type SourceMapEntry } from './program.js';

export interface DisassembleOptions {
  /** Labels to restore as `name:` lines and `:name` PUSH operands (code labels only). */
  readonly labels?: readonly Label[];
  /** Source positions to print as `; line:col` comments. */
  readonly sourceMap?: readonly SourceMapEntry[];
  /** The initial data page, printed as `.data` lines before the code. */
  readonly data?: ArrayLike<number>;
}

/** Words per `.data` line. */
const DATA_PER_LINE = 8;
/** Column where `; line:col` comments start. */
const COMMENT_COLUMN = 32;
/** `text` padded to the comment column, with at least one space before the comment. */
const withComment = (text: string, comment: string): string =>
  `${text.padEnd(COMMENT_COLUMN - 1)} ; ${comment}`;

/**
 * Prints code words in the flat syntax, e.g. `0005: PUSH 10`. Every word
 * sequence round-trips: `assemble(disassemble(code)).code` equals `code`. Words
 * that are not a whole instruction print as `.word N`, and so does an instruction
 * that a label points into. Labels whose names are not identifiers, that fall
 * outside the code or data, or that repeat a name, are left out.
 */
export function disassemble(code: ArrayLike<number>, options: DisassembleOptions = {}): string {
  let text = '';
  for (const piece of disassembleChunks(code, options, Number.POSITIVE_INFINITY)) text += piece;
  return text;
}

/** Code words disassembled per piece by disassembleChunks. */
const CHUNK_WORDS = 8192;

/**
 * The text of `disassemble(code, options)` in pieces of about `chunkWords` code
 * words each, made as they are asked for: a large page is printed without ever
 * holding its whole listing (join the pieces for the same string as disassemble).
 */
export function* disassembleChunks(
  code: ArrayLike<number>,
  options: DisassembleOptions = {},
  chunkWords = CHUNK_WORDS,
): Generator<string> {
  const data = options.data ?? [];
  const labels = usableLabels(options.labels ?? [], code.length, data.length);
  const lines: string[] = [];
  const dataLabels = labels.filter((l) => l.section === 'data');
  if (data.length > 0 || dataLabels.length > 0) {
    lines.push(`; data page: ${data.length} word${data.length === 1 ? '' : 's'}`);
    printData(lines, data, dataLabels);
  }
  const byAddress = groupByAddress(labels.filter((l) => l.section === 'code'));
  const places = new Map<number, SourceMapEntry>((options.sourceMap ?? []).map((entry) => [entry.pc, entry]));
  let pc = 0;
  do {
    pc = printCode(lines, code, byAddress, places, pc, Math.min(code.length, pc + chunkWords));
    if (lines.length > 0) yield `${lines.join('\n')}\n`;
    lines.length = 0;
  } while (pc < code.length);
}

/** Disassembles a whole program: its code, data page, labels and source map. */
export function disassembleProgram(program: Program): string {
  return disassemble(program.code, {
    labels: program.labels,
    sourceMap: program.sourceMap,
    data: program.data,
  });
}

function usableLabels(labels: readonly Label[], codeLength: number, dataLength: number): Label[] {
  const seen = new Set<string>();
  const usable: Label[] = [];
  for (const label of [...labels].sort(compareLabels)) {
    const limit = label.section === 'code' ? codeLength : dataLength;
    if (seen.has(label.name) || !isIdentifier(label.name)) continue;
    if (!Number.isInteger(label.address) || label.address < 0 || label.address > limit) continue;
    seen.add(label.name);
    usable.push(label);
  }
  return usable;
}

function groupByAddress(labels: readonly Label[]): Map<number, string[]> {
  const byAddress = new Map<number, string[]>();
  for (const { name, address } of labels) {
    const names = byAddress.get(address);
    if (names === undefined) byAddress.set(address, [name]);
    else names.push(name);
  }
  return byAddress;
}

function printData(lines: string[], data: ArrayLike<number>, labels: readonly Label[]): void {
  const byAddress = groupByAddress(labels);
  let i = 0;
  while (i < data.length) {
    for (const name of byAddress.get(i) ?? []) lines.push(`${name}:`);
    const values: string[] = [];
    const start = i;
    do {
      values.push(String(data[i]! | 0));
      i++;
    } while (i < data.length && values.length < DATA_PER_LINE && !byAddress.has(i));
    const text = `.data ${values.join(', ')}`;
    lines.push(withComment(text, `data ${pad(start, data.length)}`));
  }
  const atEnd = byAddress.get(data.length);
  if (atEnd !== undefined) {
    // An empty .data after them makes these labels name the end of the data page.
    for (const name of atEnd) lines.push(`${name}:`);
    lines.push('.data');
  }
}

/** Print the instructions starting in [from, to); returns where the next one starts (>= to). */
function printCode(
  lines: string[],
  code: ArrayLike<number>,
  byAddress: ReadonlyMap<number, readonly string[]>,
  places: ReadonlyMap<number, SourceMapEntry>,
  from: number,
  to: number,
): number {
  const emit = (pc: number, text: string): void => {
    const where = places.get(pc);
    const line = `${pad(pc, code.length)}: ${text}`;
    lines.push(where === undefined ? line : withComment(line, `${where.line}:${where.col}`));
  };
  let pc = from;
  while (pc < to) {
    for (const name of byAddress.get(pc) ?? []) lines.push(`${name}:`);
    const word = code[pc]! | 0;
    const info = instructionByCode(word);
    const length = 1 + (info?.immediates ?? 0);
    let labelInside = false;
    for (let j = pc + 1; j < pc + length; j++) labelInside ||= byAddress.has(j);
    if (info === undefined || pc + length > code.length || labelInside) {
      emit(pc, `.word ${word}`);
      pc++;
      continue;
    }
    const operands: string[] = [];
    for (let j = pc + 1; j < pc + length; j++) {
      const immediate = code[j]! | 0;
      const label = word === Op.PUSH ? byAddress.get(immediate)?.[0] : undefined;
      const isAddress = label !== undefined && feedsAddressOperand(code, pc + length);
      operands.push(isAddress ? `:${label}` : String(immediate));
    }
    emit(pc, operands.length === 0 ? info.name : `${info.name} ${operands.join(' ')}`);
    pc += length;
  }
  if (pc >= code.length) for (const name of byAddress.get(code.length) ?? []) lines.push(`${name}:`);
  return pc;
}

/** How far ahead feedsAddressOperand follows a pushed word. */
const ADDRESS_LOOKAHEAD = 16;

/**
 * True when the word pushed just before `pc` is, on the straight-line path from
 * `pc`, popped as an operand that the instruction table's stack effect names
 * `addr` (the target of JUMP and JUMPIF). This keeps `PUSH 0` a number even when
 * a label sits at offset 0, and prints `PUSH :loop` where it is a jump target.
 */
function feedsAddressOperand(code: ArrayLike<number>, pc: number): boolean {
  let depth = 0; // how many words lie above the pushed one
  for (let steps = 0; steps < ADDRESS_LOOKAHEAD && pc < code.length; steps++) {
    const info = instructionByCode(code[pc]! | 0);
    if (info === undefined) return false;
    if (info.pops > depth) {
      const inputs = info.effect.split('--')[0]!.trim().split(/\s+/).filter(Boolean);
      return inputs.length === info.pops && inputs[info.pops - 1 - depth] === 'addr';
    }
    depth += info.pushes - info.pops;
    pc += 1 + info.immediates;
  }
  return false;
}

/** A decimal offset padded to at least four digits (wider when the section is longer). */
function pad(offset: number, sectionLength: number): string {
  return String(offset).padStart(Math.max(4, String(sectionLength).length), '0');
}
