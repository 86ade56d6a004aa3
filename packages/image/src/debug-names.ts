// What an image's debug information says about a machine: the debug information of a
// program booted into a store, the record of what each domain was made from (so that
// tools name a domain by the source label it starts at), and a pc's source position.
// Shared by the CLI and the playground; names here come from debug sections, which a
// hostile image can shape: whoever prints them escapes them.
import { DomainSlot, KeyKind, KeyPage, ObjectKind, type Store } from '@keyvm/core';
import {
  attachDebugInfo,
  type DebugDomain,
  type DebugFile,
  type DebugLabel,
  type DebugProgram,
  type DebugSourcePosition,
  type ImageDebugInfo,
} from './debug.js';
import { ImageError } from './errors.js';

/**
 * What a program carries for debugging, as an assembler or compiler gives it (the
 * shape of @keyvm/assembler's Program, which this package does not depend on).
 */
export interface DebugSource {
  /** The main file's name, when the program has no `files`. */
  readonly source?: string;
  readonly files?: readonly DebugFile[];
  readonly labels: readonly DebugLabel[];
  readonly sourceMap: readonly DebugSourcePosition[];
}

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
 * and not too large; and the root domain's record (booted at pc 0).
 */
export function bootDebugInfo(store: Store, program: DebugSource, sourceText?: string): ImageDebugInfo {
  const root = store.kernel.root;
  const codePage = pageIn(store, root, DomainSlot.CODE);
  if (codePage === 0) return { programs: [] };
  const domains: DebugDomain[] = [{ domain: root, codePage, entry: 0 }];
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
  return { programs: [entry], domains };
}

/**
 * Records, as a machine runs, what each domain made (by MAKEDOMAIN) was made from:
 * its code page and the pc in its IP slot then, on top of the records `info` had.
 * `info()` is the debug information with every record so far. Records of domains
 * gone from the store are dropped as more are made, so what is held stays about
 * the number of live domains (which their memory meters bound).
 */
export class DomainRecorder {
  #store: Store;
  readonly #base: ImageDebugInfo | undefined;
  readonly #records = new Map<number, DebugDomain>();
  #pruneAt = 1024;

  constructor(store: Store, info: ImageDebugInfo | undefined) {
    this.#store = store;
    this.#base = info;
    for (const d of info?.domains ?? []) this.#records.set(d.domain, d);
    this.attach(store);
  }

  /**
   * Record what `store` makes from now on, instead of the store recorded so far (a
   * debugger that rewinds makes a new machine from a snapshot: the records go on, as
   * a deterministic machine makes the same domain from the same code again).
   */
  attach(store: Store): void {
    this.detach();
    this.#store = store;
    // Only programs we know the code of can name a domain: without them, nothing to keep.
    const base = this.#base;
    if (base !== undefined && base.programs.length > 0) store.onDomainMade = (page) => this.#made(page);
  }

  /** Stop recording (the machine's store forgets the recorder). */
  detach(): void {
    if (this.#store.onDomainMade !== null) this.#store.onDomainMade = null;
  }

  #made(page: KeyPage): void {
    const ip = page.slots[DomainSlot.IP];
    const codePage = pageIn(this.#store, page.id, DomainSlot.CODE);
    if (ip?.kind !== KeyKind.number || codePage === 0) return;
    this.#records.set(page.id, { domain: page.id, codePage, entry: ip.value >>> 0 });
    if (this.#records.size < this.#pruneAt) return;
    for (const id of this.#records.keys()) if (!isDomain(this.#store, id)) this.#records.delete(id);
    this.#pruneAt = Math.max(1024, this.#records.size * 2);
  }

  /** The debug information: the programs, and a record for each domain known. */
  info(): ImageDebugInfo | undefined {
    const base = this.#base;
    if (base === undefined) return undefined;
    if (this.#records.size === 0) return { programs: base.programs };
    const domains = [...this.#records.values()].sort((a, b) => a.domain - b.domain);
    return { programs: base.programs, domains };
  }
}

const isDomain = (store: Store, id: number): boolean => {
  const o = store.object(id);
  return o instanceof KeyPage && o.isDomain;
};

/**
 * The debug information worth keeping for `store`: the entries whose code page is
 * still a data page of it (a page destroyed since is dropped).
 */
export function liveDebugInfo(store: Store, info: ImageDebugInfo | undefined): ImageDebugInfo | undefined {
  if (info === undefined) return undefined;
  const programs = info.programs.filter((p) => store.object(p.codePage)?.kind === ObjectKind.dataPage);
  if (programs.length === 0) return undefined;
  const known = new Set(programs.map((p) => p.codePage));
  const domains = (info.domains ?? []).filter((d) => known.has(d.codePage) && isDomain(store, d.domain));
  return domains.length === 0 ? { programs } : { programs, domains };
}

/**
 * An image file: the state, then as much of the debug information as the debug
 * section holds (`MAX_DEBUG_BYTES`): all of it, or without source text, or also
 * without domain records, or none.
 */
export function withDebugInfo(state: Uint8Array, info: ImageDebugInfo | undefined): Uint8Array {
  if (info === undefined) return state;
  const programs = info.programs.map((p) => ({ ...p, files: p.files.map((f) => ({ name: f.name })) }));
  const withoutText: ImageDebugInfo =
    info.domains === undefined ? { programs } : { programs, domains: info.domains };
  for (const attempt of [info, withoutText, { programs }]) {
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
  fault: { readonly domain: number; readonly pc: number },
): FaultSource | undefined {
  const program = programOfDomain(store, info, fault.domain);
  return program === undefined ? undefined : sourceAt(program, fault.pc);
}

/** A generated label of a compiled language program that starts a domain: `d_NAME_init`. */
const LANGUAGE_DOMAIN_ENTRY = /^d_(.+)_init$/;

/** True for debug information of a program compiled from the language (its first file is `.kl`). */
export const isLanguageDebug = (program: DebugProgram): boolean =>
  program.files[0]?.name.endsWith('.kl') === true;

/**
 * The source's names for domains, per the debug information: a domain is named by the
 * code label at the pc it was made to start at (the root domain: pc 0), or, in a
 * compiled language program, by the `domain` declaration it was spawned from. The
 * namer gives undefined when there is no record, no program for its code or no label
 * there (the domain is then known by number). Built once, it answers each domain in
 * O(log records) after one pass over each program's labels.
 */
export function domainNamer(info: ImageDebugInfo | undefined): (domainId: number) => string | undefined {
  const records = info?.domains;
  if (info === undefined || records === undefined || records.length === 0) return () => undefined;
  const byPage = new Map<number, Map<number, string>>();
  const entryNames = (codePage: number): Map<number, string> | undefined => {
    let names = byPage.get(codePage);
    if (names !== undefined) return names;
    const program = info.programs.find((p) => p.codePage === codePage);
    if (program === undefined) return undefined;
    names = new Map();
    const language = isLanguageDebug(program);
    for (const l of program.labels) {
      if (l.section !== 'code' || names.has(l.address)) continue;
      if (!language) names.set(l.address, l.name);
      else {
        const m = LANGUAGE_DOMAIN_ENTRY.exec(l.name);
        if (m !== null) names.set(l.address, m[1]!);
      }
    }
    byPage.set(codePage, names);
    return names;
  };
  return (domainId) => {
    let lo = 0;
    let hi = records.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = records[mid]!;
      if (r.domain === domainId) return entryNames(r.codePage)?.get(r.entry);
      if (r.domain < domainId) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  };
}

/** One domain's source name (see domainNamer). */
export const domainLabel = (info: ImageDebugInfo | undefined, domainId: number): string | undefined =>
  domainNamer(info)(domainId);
