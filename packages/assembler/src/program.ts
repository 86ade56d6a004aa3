// The assembled program as data: code words, the initial data page, labels and
// the source map, shared by the assembler, the disassembler and the .kvm format.

/**
 * The most words the code or the data page may hold: the largest data page the
 * store creates (code runs from a data page too). Must equal
 * `LIMITS.maxDataPageWords` of @keyvm/core, which this package does not depend
 * on (apps/cli, which depends on both, tests that they agree).
 */
export const MAX_PAGE_WORDS = 1 << 24;

/** Which page a label points into: the code page or the initial data page. */
export type LabelSection = 'code' | 'data';

/** A named word offset into the code or the data page. */
export interface Label {
  readonly name: string;
  /** Word offset (not an instruction count). */
  readonly address: number;
  readonly section: LabelSection;
}

/** Where the instruction (or `.word`) starting at code offset `pc` came from; 1-based. */
export interface SourceMapEntry {
  readonly pc: number;
  readonly line: number;
  readonly col: number;
  /** Index into `Program.files` (0, the main file, when absent). */
  readonly file?: number;
}

/** A file a program was assembled from: the main file first, then each `.include`d one. */
export interface SourceFile {
  readonly name: string;
  /** The file's text, when it is kept (for showing source lines). */
  readonly text?: string;
}

/** What the assembler produces and a `.kvm` file holds. */
export interface Program {
  /** Code words: opcodes followed by their immediates. */
  readonly code: Int32Array;
  /** The initial contents of the data page. */
  readonly data: Int32Array;
  /** Sorted by section (code first), then address, then name (code-unit order). */
  readonly labels: readonly Label[];
  /** Sorted by pc, one entry per instruction start; no two entries share a pc. */
  readonly sourceMap: readonly SourceMapEntry[];
  /** The source file name, when known. */
  readonly source?: string;
  /**
   * The files the source map points into, the main file first (its name is
   * `source`), when the program was assembled from more than one file or its text
   * is kept; absent otherwise.
   */
  readonly files?: readonly SourceFile[];
}

/** Canonical label order: code before data, then by address, then by name in code-unit order. */
export function compareLabels(a: Label, b: Label): number {
  if (a.section !== b.section) return a.section === 'code' ? -1 : 1;
  if (a.address !== b.address) return a.address - b.address;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
