// Debug information across the CLI: what a program's labels and source map say about
// the machine it booted (kept in saved images), and faults told as source positions
// (`file:line:col`, the line and a caret) from it.
import type { Program } from '@keyvm/assembler';
import { escapeText, excerptLine } from '@keyvm/assembler';
import { DomainSlot, KeyPage, ObjectKind, type Store } from '@keyvm/core';
import { attachDebugInfo, type DebugProgram, type ImageDebugInfo, ImageError } from '@keyvm/image';
import type { FaultInfo } from '@keyvm/interpreter';

/** Source text is kept in saved images up to this many UTF-16 code units per file. */
export const MAX_KEPT_SOURCE = 4 * 1024 * 1024;

/** The id of the page a domain's slot designates, or 0. */
function pageIn(store: Store, domainId: number, slot: number): number {
  const page = store.object(domainId);
  if (!(page instanceof KeyPage)) return 0;
  const key = page.slots[slot];
  const target = key === undefined ? undefined : store.deref(key);
  return target?.kind === ObjectKind.dataPage ? target.id : 0;
}

/**
 * The debug information of a program booted into `store` (its root domain's CODE and
 * DATA pages): labels, source map and files, with the source text when it is known
 * and not too large.
 */
export function bootDebugInfo(store: Store, program: Program, sourceText?: string): ImageDebugInfo {
  const root = store.kernel.root;
  const codePage = pageIn(store, root, DomainSlot.CODE);
  if (codePage === 0) return { programs: [] };
  const files = (program.files ?? [{ name: program.source ?? '' }]).map((f, i) => {
    const text = f.text ?? (i === 0 ? sourceText : undefined);
    return text === undefined || text.length > MAX_KEPT_SOURCE ? { name: f.name } : { name: f.name, text };
  });
  const entry: DebugProgram = {
    codePage,
    dataPage: pageIn(store, root, DomainSlot.DATA),
    files,
    labels: program.labels.map((l) => ({ name: l.name, address: l.address, section: l.section })),
    sourceMap: program.sourceMap.map((e) =>
      e.file === undefined
        ? { pc: e.pc, line: e.line, col: e.col }
        : { pc: e.pc, line: e.line, col: e.col, file: e.file },
    ),
  };
  if (
    files.length === 1 &&
    files[0]!.name === '' &&
    entry.labels.length === 0 &&
    entry.sourceMap.length === 0
  )
    return { programs: [] };
  return { programs: [entry] };
}

/**
 * The debug information worth keeping for `store`: the entries whose code page is
 * still a data page of it (a page destroyed since is dropped).
 */
export function liveDebugInfo(store: Store, info: ImageDebugInfo | undefined): ImageDebugInfo | undefined {
  if (info === undefined) return undefined;
  const programs = info.programs.filter((p) => store.object(p.codePage)?.kind === ObjectKind.dataPage);
  return programs.length === 0 ? undefined : { programs };
}

/**
 * An image file: the state, then as much of the debug information as the debug
 * section holds (`MAX_DEBUG_BYTES`): all of it, or without source text, or none.
 */
export function withDebugInfo(state: Uint8Array, info: ImageDebugInfo | undefined): Uint8Array {
  if (info === undefined) return state;
  const withoutText: ImageDebugInfo = {
    programs: info.programs.map((p) => ({ ...p, files: p.files.map((f) => ({ name: f.name })) })),
  };
  for (const attempt of [info, withoutText]) {
    try {
      return attachDebugInfo(state, attempt);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
    }
  }
  return state;
}

/** The program whose code a domain runs, per the debug information. */
export function programOfDomain(
  store: Store,
  info: ImageDebugInfo | undefined,
  domainId: number,
): DebugProgram | undefined {
  if (info === undefined) return undefined;
  const code = pageIn(store, domainId, DomainSlot.CODE);
  return info.programs.find((p) => p.codePage === code);
}

/** Where a fault happened in the source, as far as the debug information knows. */
export interface FaultSource {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The source line as written, when the source text is known. */
  readonly sourceLine?: string;
  /** The nearest code label at or before the pc (the routine it is in). */
  readonly label?: string;
}

/** The source map entry of the instruction at or before `pc`, with its file and line. */
export function sourceAt(program: DebugProgram, pc: number): FaultSource | undefined {
  let lo = 0;
  let hi = program.sourceMap.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (program.sourceMap[mid]!.pc <= pc) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return undefined;
  const entry = program.sourceMap[found]!;
  const file = program.files[entry.file ?? 0];
  let label: string | undefined;
  for (const l of program.labels) if (l.section === 'code' && l.address <= pc) label = l.name;
  const text = file?.text;
  const sourceLine = text === undefined ? undefined : lineOf(text, entry.line);
  return {
    file: file?.name || '<input>',
    line: entry.line,
    col: entry.col,
    ...(sourceLine === undefined ? {} : { sourceLine }),
    ...(label === undefined ? {} : { label }),
  };
}

/** Line `n` (1-based) of `text` without its line break, or undefined past the end. */
function lineOf(text: string, n: number): string | undefined {
  let start = 0;
  for (let i = 1; i < n; i++) {
    const next = text.indexOf('\n', start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  const line = text.slice(start, end < 0 ? text.length : end);
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** The fault's source position, when the debug information of its domain's code knows it. */
export function locateFault(
  store: Store,
  info: ImageDebugInfo | undefined,
  fault: Pick<FaultInfo, 'domain' | 'pc'>,
): FaultSource | undefined {
  const program = programOfDomain(store, info, fault.domain);
  return program === undefined ? undefined : sourceAt(program, fault.pc);
}

/** How a fault's domain is named: the root domain, or its id. */
export function domainName(store: Store, domainId: number): string {
  return domainId === store.kernel.root ? `the root domain #${domainId}` : `domain #${domainId}`;
}

/**
 * The fault for people: `file:line:col: fault: CODE in DOMAIN (in LABEL): MESSAGE`,
 * then the source line and a caret when known; without a source position, the pc.
 */
export function faultText(
  store: Store,
  fault: FaultInfo,
  where: FaultSource | undefined,
  red: (s: string) => string,
): string {
  const domain = domainName(store, fault.domain);
  if (where === undefined)
    return `${red('fault')}: ${fault.code} at pc ${fault.pc} in ${domain}: ${fault.message}`;
  // Names come from the debug information, which a hostile image can shape: escaped.
  const label = where.label === undefined ? '' : `, in ${escapeText(where.label)}`;
  let text = `${escapeText(where.file)}:${where.line}:${where.col}: ${red('fault')}: ${fault.code} in ${domain} (pc ${fault.pc}${label}): ${fault.message}`;
  if (where.sourceLine !== undefined) {
    const { text: shown, caret } = excerptLine(where.sourceLine, where.col);
    text += `\n  ${shown}\n  ${caret}^`;
  }
  return text;
}

/** The --json fields a source position adds to a fault. */
export function faultSourceFields(where: FaultSource | undefined): Record<string, unknown> {
  if (where === undefined) return {};
  return {
    file: where.file,
    line: where.line,
    col: where.col,
    ...(where.label === undefined ? {} : { label: where.label }),
  };
}
