// The disassembler: code words (and optionally the data page) to flat syntax,
// one instruction a line with its address, which assembles back to the same words.
import { INSTRUCTIONS, instructionByCode, Op } from '@keyvm/isa';
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

/** One instruction as `disassembleInstruction` prints it, and where the next one starts. */
export interface DisassembledInstruction {
  /**
   * Flat syntax that assembles back to the same words: `PUSH 10`, `ADD`; `.word N`
   * for a word that is no opcode; `.word N ; PUSH: immediate past the end of the
   * code` for an instruction cut off by the end of the code (a comment says so);
   * `; pc N is outside the code (L words)` when `pc` is not in the code at all.
   */
  readonly text: string;
  /** Where the next instruction starts: `pc` plus the words read (`pc` itself only when none could be). */
  readonly next: number;
}

/**
 * The instruction at `pc` of `code` in the flat syntax, as `disassemble` prints it
 * (without labels or source-map grouping), and where the next one starts. It reads
 * only the words of that instruction and never throws: an immediate past the end of
 * the code, an unknown opcode or a `pc` outside the code are reported in the text.
 * The tracer (`keyvm run --trace`) and the debuggers print steps with it.
 */
export function disassembleInstruction(code: ArrayLike<number>, pc: number): DisassembledInstruction {
  if (!Number.isInteger(pc) || pc < 0 || pc >= code.length) {
    const words = `${code.length} word${code.length === 1 ? '' : 's'}`;
    return { text: `; pc ${pc} is outside the code (${words})`, next: pc };
  }
  const word = code[pc]! | 0;
  const info = instructionByCode(word);
  if (info === undefined) return { text: `.word ${word}`, next: pc + 1 };
  const end = pc + 1 + info.immediates;
  if (end > code.length) {
    const what = info.immediates === 1 ? 'immediate' : 'immediates';
    return { text: `.word ${word} ; ${info.name}: ${what} past the end of the code`, next: pc + 1 };
  }
  if (info.immediates === 0) return { text: info.name, next: end };
  let text = info.name;
  for (let j = pc + 1; j < end; j++) text += ` ${code[j]! | 0}`;
  return { text, next: end };
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

/** Runs of at least this many zero words print as `.zero N`. */
const ZERO_RUN = 8;
/** Runs of at least this many printable characters print as `.string`. */
const TEXT_RUN = 4;

/** A data word that `.string` can show as itself or a short escape. */
const isTextWord = (w: number): boolean => (w >= 0x20 && w <= 0x7e) || w === 10 || w === 9;

const TEXT_ESCAPES: Readonly<Record<number, string>> = { 10: '\\n', 9: '\\t', 34: '\\"', 92: '\\\\' };

/** How many words from `i` on satisfy `test`, stopping at a label. */
function runLength(
  data: ArrayLike<number>,
  i: number,
  byAddress: ReadonlyMap<number, readonly string[]>,
  test: (w: number) => boolean,
): number {
  let j = i;
  while (j < data.length && test(data[j]! | 0) && (j === i || !byAddress.has(j))) j++;
  return j - i;
}

function printData(lines: string[], data: ArrayLike<number>, labels: readonly Label[]): void {
  const byAddress = groupByAddress(labels);
  let i = 0;
  while (i < data.length) {
    for (const name of byAddress.get(i) ?? []) lines.push(`${name}:`);
    const zeros = runLength(data, i, byAddress, (w) => w === 0);
    if (zeros >= ZERO_RUN) {
      lines.push(withComment(`.zero ${zeros}`, `data ${pad(i, data.length)}`));
      i += zeros;
      continue;
    }
    const chars = runLength(data, i, byAddress, isTextWord);
    if (chars >= TEXT_RUN) {
      let shown = '';
      for (let k = i; k < i + chars; k++) {
        const w = data[k]! | 0;
        shown += TEXT_ESCAPES[w] ?? String.fromCharCode(w);
      }
      // A 0 right after the text (and no label on it) makes it a .string0.
      const terminated = i + chars < data.length && (data[i + chars]! | 0) === 0 && !byAddress.has(i + chars);
      lines.push(withComment(`.string${terminated ? '0' : ''} "${shown}"`, `data ${pad(i, data.length)}`));
      i += chars + (terminated ? 1 : 0);
      continue;
    }
    const values: string[] = [];
    const start = i;
    do {
      values.push(String(data[i]! | 0));
      i++;
    } while (
      i < data.length &&
      values.length < DATA_PER_LINE &&
      !byAddress.has(i) &&
      runLength(data, i, byAddress, (w) => w === 0) < ZERO_RUN &&
      runLength(data, i, byAddress, isTextWord) < TEXT_RUN
    );
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
  const emit = (pc: number, text: string, at = pc): void => {
    const where = places.get(at);
    const line = `${pad(pc, code.length)}: ${text}`;
    const file = where?.file ? `#${where.file} ` : '';
    lines.push(where === undefined ? line : withComment(line, `${file}${where.line}:${where.col}`));
  };
  let pc = from;
  while (pc < to) {
    for (const name of byAddress.get(pc) ?? []) lines.push(`${name}:`);
    const word = code[pc]! | 0;
    const one = disassembleInstruction(code, pc);
    let labelInside = false;
    for (let j = pc + 1; j < one.next; j++) labelInside ||= byAddress.has(j);
    if (labelInside) {
      emit(pc, `.word ${word}`);
      pc++;
      continue;
    }
    const group = sourceGroup(code, pc, byAddress, places);
    if (group !== undefined) {
      emit(pc, group.text, group.at);
      pc = group.end;
      continue;
    }
    // A PUSH of a labelled address that is a jump target prints as `PUSH :label`.
    const label = word === Op.PUSH && one.next === pc + 2 ? byAddress.get(code[pc + 1]! | 0)?.[0] : undefined;
    const isAddress = label !== undefined && feedsAddressOperand(code, one.next);
    emit(pc, isAddress ? `PUSH :${label}` : one.text);
    pc = one.next;
  }
  if (pc >= code.length) for (const name of byAddress.get(code.length) ?? []) lines.push(`${name}:`);
  return pc;
}

/** The most stack words any instruction pops. */
const MAX_POPS = Math.max(...INSTRUCTIONS.map((row) => row.pops));

const sameLine = (a: SourceMapEntry, b: SourceMapEntry): boolean =>
  a.line === b.line && (a.file ?? 0) === (b.file ?? 0);
const samePlace = (a: SourceMapEntry, b: SourceMapEntry): boolean => sameLine(a, b) && a.col === b.col;

/** A PUSH's operand for printing: `:label` where it is the address operand and a label is there. */
function operandText(
  value: number,
  isAddress: boolean,
  byAddress: ReadonlyMap<number, readonly string[]>,
): string {
  const label = isAddress ? byAddress.get(value)?.[0] : undefined;
  return label === undefined ? String(value) : `:${label}`;
}

/**
 * What the source said, where the source map shows it: PUSHes whose positions lie on
 * the instruction's line after it were its operands (`ADD 1 2`, `add(1,2)`, and
 * `JUMPIF :done` with the SWAP it assembles to); `PUSH ret, PUSH f, JUMP` from one
 * place, with ret right after the JUMP, was `JSR f`; SWAP, JUMP from one place was
 * `RTS 1`. The text printed assembles to the same words. Undefined when no such group
 * starts at `pc` (or a label falls inside it).
 */
function sourceGroup(
  code: ArrayLike<number>,
  pc: number,
  byAddress: ReadonlyMap<number, readonly string[]>,
  places: ReadonlyMap<number, SourceMapEntry>,
): { text: string; end: number; at: number } | undefined {
  const here = places.get(pc);
  if (here === undefined) return undefined;
  const word = (k: number) => (k < code.length ? code[k]! | 0 : undefined);
  // RTS 1
  if (word(pc) === Op.SWAP && word(pc + 1) === Op.JUMP && !byAddress.has(pc + 1)) {
    const next = places.get(pc + 1);
    if (next !== undefined && samePlace(here, next)) return { text: 'RTS 1', end: pc + 2, at: pc };
  }
  if (word(pc) !== Op.PUSH) return undefined;
  // JSR target
  if (word(pc + 1) === pc + 5 && word(pc + 2) === Op.PUSH && word(pc + 4) === Op.JUMP) {
    const jump = places.get(pc + 4);
    if (jump !== undefined && samePlace(here, jump) && ![2, 4].some((k) => byAddress.has(pc + k))) {
      return { text: `JSR ${operandText(word(pc + 3)!, true, byAddress)}`, end: pc + 5, at: pc };
    }
  }
  // Operand PUSHes, then their instruction (no instruction takes more than MAX_POPS,
  // so a long run of PUSHes is looked at no further: bounded work per line printed).
  const pushes: number[] = [];
  let k = pc;
  while (
    pushes.length <= MAX_POPS &&
    word(k) === Op.PUSH &&
    k + 1 < code.length &&
    (k === pc || !byAddress.has(k)) &&
    !byAddress.has(k + 1)
  ) {
    pushes.push(k);
    k += 2;
  }
  if (k >= code.length || byAddress.has(k)) return undefined;
  let swap = false;
  if (word(k) === Op.SWAP && pushes.length === 1) {
    const s = places.get(k);
    const after = places.get(k + 1);
    if (s !== undefined && after !== undefined && samePlace(s, after) && !byAddress.has(k + 1)) {
      swap = true;
      k++;
    }
  }
  const info = instructionByCode(word(k)!);
  const at = places.get(k);
  if (info === undefined || info.immediates !== 0 || at === undefined) return undefined;
  for (const p of pushes) {
    const e = places.get(p);
    if (e === undefined || !sameLine(e, at) || e.col <= at.col) return undefined;
  }
  const kinds = info.operands;
  const addressFirst = info.pops === 2 && kinds[0]?.kind === 'addr';
  // One operand of JUMPIF without the SWAP would read back as `JUMPIF :x` with one.
  if (addressFirst && pushes.length === 1 && !swap) return undefined;
  if (swap && !addressFirst) return undefined;
  if (pushes.length > info.pops) return undefined;
  const operands = pushes.map((p, n) => {
    const operand = swap ? kinds[0] : kinds[info.pops - pushes.length + n];
    return operandText(word(p + 1)!, operand?.kind === 'addr', byAddress);
  });
  return { text: `${info.name} ${operands.join(' ')}`, end: k + 1, at: k };
}

/** How far ahead feedsAddressOperand follows a pushed word. */
const ADDRESS_LOOKAHEAD = 16;

/**
 * True when the word pushed just before `pc` is, on the straight-line path from
 * `pc`, popped as an operand whose kind in the instruction table is `addr` (the
 * target of JUMP and JUMPIF). This keeps `PUSH 0` a number even when
 * a label sits at offset 0, and prints `PUSH :loop` where it is a jump target.
 */
function feedsAddressOperand(code: ArrayLike<number>, pc: number): boolean {
  let depth = 0; // how many words lie above the pushed one
  for (let steps = 0; steps < ADDRESS_LOOKAHEAD && pc < code.length; steps++) {
    const info = instructionByCode(code[pc]! | 0);
    if (info === undefined) return false;
    if (info.pops > depth) {
      return info.operands[info.pops - 1 - depth]?.kind === 'addr';
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
