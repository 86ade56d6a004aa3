// Source lines <-> code offsets through the assembler's source map, and the set of
// breakpoints (code offsets on the program's code page) a run stops at.
import type { SourceMapEntry } from '@keyvm/assembler';

/** Line/pc look-ups over one program's source map (sorted by pc, one entry per instruction). */
export class SourceLines {
  readonly #byPc: readonly SourceMapEntry[];
  readonly #byLine = new Map<number, number[]>();

  constructor(sourceMap: readonly SourceMapEntry[]) {
    this.#byPc = sourceMap;
    for (const e of sourceMap) {
      const list = this.#byLine.get(e.line);
      if (list) list.push(e.pc);
      else this.#byLine.set(e.line, [e.pc]);
    }
  }

  /** The 1-based source line of the instruction starting at `pc`, or of the instruction containing it. */
  lineOf(pc: number): number | undefined {
    const map = this.#byPc;
    let lo = 0;
    let hi = map.length - 1;
    let found: SourceMapEntry | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = map[mid]!;
      if (e.pc <= pc) {
        found = e;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found?.line;
  }

  /** Code offsets of the instructions that start on `line` (empty for a line with none). */
  pcsOf(line: number): readonly number[] {
    return this.#byLine.get(line) ?? [];
  }

  /** The first line at or after `line` that holds an instruction (where a breakpoint on `line` lands). */
  nearestCodeLine(line: number): number | undefined {
    let best: number | undefined;
    for (const l of this.#byLine.keys()) if (l >= line && (best === undefined || l < best)) best = l;
    return best;
  }

  /** Lines that hold instructions, ascending. */
  codeLines(): number[] {
    return [...this.#byLine.keys()].sort((a, b) => a - b);
  }
}

/** Breakpoints as source lines, resolved to code offsets on one code page. */
export class Breakpoints {
  readonly #lines = new Set<number>();
  #pcs = new Set<number>();
  #codePage = 0;
  #source: SourceLines | null = null;

  /** Bind to a program: its source map and the id of the page its code runs from. */
  bind(source: SourceLines | null, codePage: number): void {
    this.#source = source;
    this.#codePage = codePage;
    this.#resolve();
  }

  /** Toggle a breakpoint on `line`; it lands on the first line at or after it with code. Returns the line set or cleared, or undefined when no code follows. */
  toggleLine(line: number): number | undefined {
    const at = this.#source?.nearestCodeLine(line);
    if (at === undefined) return undefined;
    if (this.#lines.has(at)) this.#lines.delete(at);
    else this.#lines.add(at);
    this.#resolve();
    return at;
  }

  setLines(lines: Iterable<number>): void {
    this.#lines.clear();
    for (const l of lines) {
      const at = this.#source?.nearestCodeLine(l);
      if (at !== undefined) this.#lines.add(at);
    }
    this.#resolve();
  }

  /** Toggle a breakpoint on a code offset directly (disassembly, or a program without source). */
  togglePc(pc: number): void {
    const line = this.#source?.lineOf(pc);
    if (line !== undefined) {
      this.toggleLine(line);
      return;
    }
    if (this.#pcs.has(pc)) this.#pcs.delete(pc);
    else this.#pcs.add(pc);
  }

  get lines(): number[] {
    return [...this.#lines].sort((a, b) => a - b);
  }
  get pcs(): number[] {
    return [...this.#pcs].sort((a, b) => a - b);
  }
  get size(): number {
    return this.#pcs.size;
  }

  /** Whether the next instruction (domain code page, pc) is on a breakpoint. */
  hit(codePage: number, pc: number): boolean {
    return codePage === this.#codePage && this.#pcs.has(pc);
  }

  #resolve(): void {
    if (this.#source === null) return;
    const pcs = new Set<number>();
    for (const line of this.#lines) for (const pc of this.#source.pcsOf(line)) pcs.add(pc);
    this.#pcs = pcs;
  }
}
