// Debug information across the CLI: what a program's labels and source map say about
// the machine it booted and what each domain was made from (kept in saved images),
// and faults told as source positions (`file:line:col`, the line and a caret) in a
// domain named by the label it starts at.
import type { Program } from '@keyvm/assembler';
import { escapeText, excerptLine } from '@keyvm/assembler';
import { DomainSlot, KeyKind, KeyPage, ObjectKind, type Store } from '@keyvm/core';
import {
  attachDebugInfo,
  type DebugDomain,
  type DebugProgram,
  type ImageDebugInfo,
  ImageError,
} from '@keyvm/image';
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
 * and not too large; and the root domain's record (booted at pc 0).
 */
export function bootDebugInfo(store: Store, program: Program, sourceText?: string): ImageDebugInfo {
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
  readonly #store: Store;
  readonly #base: ImageDebugInfo | undefined;
  readonly #records = new Map<number, DebugDomain>();
  #pruneAt = 1024;

  constructor(store: Store, info: ImageDebugInfo | undefined) {
    this.#store = store;
    this.#base = info;
    for (const d of info?.domains ?? []) this.#records.set(d.domain, d);
    // Only programs we know the code of can name a domain: without them, nothing to keep.
    if (info !== undefined && info.programs.length > 0) store.onDomainMade = (page) => this.#made(page);
  }

  /** Stop recording (the machine's store forgets the recorder). */
  detach(): void {
    this.#store.onDomainMade = null;
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
  fault: Pick<FaultInfo, 'domain' | 'pc'>,
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

/** An identifier as it is; anything else (a hostile debug section's) quoted, escaped and bounded. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_.$]{0,63}$/;
/** The most characters of a name shown: longer ones are cut with `…`. */
const NAME_SHOWN = 64;
export function shownName(name: string): string {
  if (IDENTIFIER.test(name)) return name;
  const chars = [...name];
  const cut = chars.length > NAME_SHOWN ? `${chars.slice(0, NAME_SHOWN).join('')}…` : name;
  // Quotes and backslashes first, so that escapeText's own escapes stay apart from them.
  return `"${escapeText(cut.replace(/["\\]/g, '\\$&'))}"`;
}

/** How a fault's domain is named: the root domain or a domain, by its source name when known, and its id. */
export function domainName(store: Store, domainId: number, name?: string): string {
  const called = name === undefined ? '' : `${shownName(name)} `;
  return domainId === store.kernel.root
    ? `the root domain ${called}#${domainId}`
    : `domain ${called}#${domainId}`;
}

/**
 * The fault for people: `file:line:col: fault: CODE in DOMAIN (in LABEL): MESSAGE`,
 * then the source line and a caret when known; without a source position, the pc.
 * DOMAIN is named by `name` (see domainLabel) when given; LABEL, the routine the pc is
 * in, is left out when it is that name.
 */
export function faultText(
  store: Store,
  fault: FaultInfo,
  where: FaultSource | undefined,
  red: (s: string) => string,
  name?: string,
): string {
  const domain = domainName(store, fault.domain, name);
  if (where === undefined)
    return `${red('fault')}: ${fault.code} at pc ${fault.pc} in ${domain}: ${fault.message}`;
  // Names come from the debug information, which a hostile image can shape: escaped.
  const label = where.label === undefined || where.label === name ? '' : `, in ${escapeText(where.label)}`;
  let text = `${escapeText(where.file)}:${where.line}:${where.col}: ${red('fault')}: ${fault.code} in ${domain} (pc ${fault.pc}${label}): ${fault.message}`;
  if (where.sourceLine !== undefined) {
    const { text: shown, caret } = excerptLine(where.sourceLine, where.col);
    text += `\n  ${shown}\n  ${caret}^`;
  }
  return text;
}

/** The --json fields a source position and the domain's source name add to a fault. */
export function faultSourceFields(where: FaultSource | undefined, name?: string): Record<string, unknown> {
  const named = name === undefined ? {} : { domainName: name };
  if (where === undefined) return named;
  return {
    file: where.file,
    line: where.line,
    col: where.col,
    ...(where.label === undefined ? {} : { label: where.label }),
    ...named,
  };
}
