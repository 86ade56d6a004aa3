// `keyvm inspect IMAGE`: what an image holds — header, hash, kernel registers,
// domains and their slots, the meter tree, pages and devices — for people or as JSON.

import { escapeText, shownName } from '@keyvm/assembler';
import {
  DomainSlot,
  describeKey,
  FIRST_GENERAL_SLOT,
  faultName,
  type Key,
  KeyKind,
  ObjectKind,
  UNLIMITED,
} from '@keyvm/core';
import {
  domainNamer,
  type ImageDebugInfo,
  imageHash,
  isLanguageDebug,
  locateFault,
  programOfDomain,
  readImageHeader,
} from '@keyvm/image';
import { DEVICE_TABLE, Machine, type MachineApi } from '@keyvm/interpreter';
import { type BoundedWords, batchLines, boundedWords, flatWords, jsonPieces } from './bounded.js';
import { faultSourceFields } from './debug-info.js';
import { ExitCode } from './errors.js';
import { colourFor, loadInputOf, paint } from './io.js';
import { withFunctionName } from './lang.js';
import { writeOutputPieces } from './stream-out.js';

/** Names of the special domain slots by number. */
export const SLOT_NAMES: readonly string[] = Object.entries(DomainSlot)
  .sort((a, b) => a[1] - b[1])
  .map(([name]) => name);

export const slotName = (slot: number): string => (slot < FIRST_GENERAL_SLOT ? (SLOT_NAMES[slot] ?? '') : '');

export interface SlotView {
  readonly slot: number;
  readonly name: string;
  readonly key: string;
}

export interface ImageView {
  readonly file: string;
  readonly format: { readonly version: number; readonly bytes: number; readonly sha256: string };
  readonly kernel: {
    readonly root: number;
    readonly active: number;
    /** The run queue: all of it, or its first and last 16 entries when longer than 32. */
    readonly runQueue: readonly number[];
    /** Entries of the run queue left out between the first and last 16 (0: it is all there). */
    readonly runQueueOmitted: number;
    readonly steps: number;
    readonly quantum: number;
    readonly sliceLeft: number;
    /**
     * The fault the machine stopped on, named as --json names it (`code` the catalogue
     * name; `file`, `line`, `col`, `label` when the image's debug section places it).
     */
    readonly fault: {
      readonly code: string;
      readonly number: number;
      readonly pc: number;
      readonly domain: number;
      readonly file?: string;
      readonly line?: number;
      readonly col?: number;
      readonly label?: string;
      /** The faulted domain's source name, when the debug section gives one. */
      readonly domainName?: string;
    } | null;
  };
  readonly domains: readonly {
    readonly id: number;
    /** The label of the code the domain was made to start at, when the debug section gives one. */
    readonly name?: string;
    readonly root: boolean;
    readonly state: string;
    readonly ip: number;
    readonly sp: number;
    /** The stack, bottom first: all of it, or its bottom and top 16 words when deeper than 32. */
    readonly stack: readonly number[];
    /** Stack words left out between the bottom and top 16 (0: it is all there). */
    readonly stackOmitted: number;
    /** Keys held, bounded like the stack. */
    readonly slots: readonly SlotView[];
    readonly slotsOmitted: number;
  }[];
  readonly meters: readonly {
    readonly id: number;
    readonly resource: 'time' | 'memory';
    readonly parent: number | null;
    readonly remaining: number | null;
    readonly keeper: string;
    readonly depth: number;
  }[];
  readonly pages: readonly {
    readonly id: number;
    readonly type: 'data' | 'keys';
    readonly size: number;
    readonly meter: number;
    readonly domain: boolean;
    readonly slots?: readonly SlotView[];
    readonly slotsOmitted?: number;
    /** A data page's words: all of them, or its first and last 16 when it has more than 32. */
    readonly words?: readonly number[];
    /** Words left out between the first and last 16 (0: they are all there). */
    readonly wordsOmitted?: number;
  }[];
  readonly devices: readonly { readonly id: number; readonly type: string; readonly transcript: number }[];
}

/**
 * The keys a key page holds (non-null slots), bounded: all of them, or the first
 * and last 16 and how many were left out between. Only those shown are described.
 */
function slotViews(
  slots: readonly Key[],
  domain: boolean,
  read: (key: Key) => Key = (key) => key,
): { slots: SlotView[]; omitted: number } {
  const held: number[] = [];
  for (let i = 0; i < slots.length; i++) if (read(slots[i]!).kind !== KeyKind.null) held.push(i);
  const { words, omitted } = flatWords(boundedWords(held.length, (from, to) => held.slice(from, to)));
  return {
    slots: words.map((slot) => ({
      slot,
      name: domain ? slotName(slot) : String(slot),
      key: describeKey(read(slots[slot]!)),
    })),
    omitted,
  };
}

/** A domain's stack, bounded, read from its stack page (no copy of the whole stack). */
function stackView(store: Machine['store'], stackKey: Key | undefined, sp: number): BoundedWords {
  const page = stackKey === undefined ? undefined : store.deref(stackKey);
  const words = page?.kind === ObjectKind.dataPage ? page.words : new Int32Array(0);
  const depth = Math.max(0, Math.min(sp, words.length));
  return boundedWords(depth, (from, to) => Array.from(words.subarray(from, to)));
}

/** A plain description of an image (shared by inspect and its --json). */
export function viewImage(
  file: string,
  bytes: Uint8Array,
  machine: MachineApi,
  debug?: ImageDebugInfo,
): ImageView {
  const store = machine.store;
  const k = store.kernel;
  const { version } = readImageHeader(bytes);
  const nameOf = domainNamer(debug);
  const view: {
    [K in keyof ImageView]: ImageView[K] extends readonly (infer T)[] ? T[] : ImageView[K];
  } = {
    file,
    format: { version, bytes: bytes.length, sha256: imageHash(bytes) },
    kernel: {
      root: k.root,
      active: k.active,
      ...(() => {
        const q = flatWords(boundedWords(k.runQueue.length, (from, to) => k.runQueue.slice(from, to)));
        return { runQueue: q.words, runQueueOmitted: q.omitted };
      })(),
      steps: k.steps,
      quantum: k.quantum,
      sliceLeft: k.sliceLeft,
      fault:
        k.faultCode === 0
          ? null
          : {
              code: faultName(k.faultCode) ?? `#${k.faultCode}`,
              number: k.faultCode,
              pc: k.faultPc,
              domain: k.faultDomain,
              ...faultSourceFields(
                (() => {
                  const where = locateFault(store, debug, { domain: k.faultDomain, pc: k.faultPc });
                  const program = programOfDomain(store, debug, k.faultDomain);
                  // A compiled language program's fault is in a function, not a generated label.
                  return where !== undefined && program !== undefined && isLanguageDebug(program)
                    ? withFunctionName(where, program, k.faultPc)
                    : where;
                })(),
                nameOf(k.faultDomain),
              ),
            },
    },
    domains: machine.domains().map((d) => {
      const stack = flatWords(stackView(store, d.slots[DomainSlot.STACK], d.sp));
      const slots = slotViews(d.slots, true);
      const name = nameOf(d.id);
      return {
        id: d.id,
        ...(name === undefined ? {} : { name }),
        root: d.id === k.root,
        state: d.stateName,
        ip: d.ip,
        sp: d.sp,
        stack: stack.words,
        stackOmitted: stack.omitted,
        slots: slots.slots,
        slotsOmitted: slots.omitted,
      };
    }),
    meters: [],
    pages: [],
    devices: [],
  };
  for (const o of store.objects()) {
    switch (o.kind) {
      case ObjectKind.meter:
        view.meters.push({
          id: o.id,
          resource: o.resource === 0 ? 'time' : 'memory',
          parent: o.parent?.id ?? null,
          remaining: o.remaining === UNLIMITED ? null : o.remaining,
          keeper: describeKey(store.normalize(o.keeper)),
          depth: o.depth,
        });
        break;
      case ObjectKind.dataPage: {
        const words = flatWords(boundedWords(o.size, (from, to) => Array.from(o.words.subarray(from, to))));
        view.pages.push({
          id: o.id,
          type: 'data',
          size: o.size,
          meter: o.meter,
          domain: false,
          words: words.words,
          wordsOmitted: words.omitted,
        });
        break;
      }
      case ObjectKind.keyPage:
        view.pages.push(
          o.isDomain
            ? { id: o.id, type: 'keys', size: o.size, meter: o.meter, domain: true }
            : (() => {
                const held = slotViews(o.slots, false, (key) => store.normalize(key));
                return {
                  id: o.id,
                  type: 'keys' as const,
                  size: o.size,
                  meter: o.meter,
                  domain: false,
                  slots: held.slots,
                  slotsOmitted: held.omitted,
                };
              })(),
        );
        break;
      case ObjectKind.device:
        view.devices.push({
          id: o.id,
          type: DEVICE_TABLE[o.deviceType]?.name ?? `type ${o.deviceType}`,
          transcript: o.transcript.length,
        });
        break;
    }
  }
  return view;
}

export interface InspectFlags {
  json?: boolean;
}

export async function inspectCommand(file: string, flags: InspectFlags): Promise<ExitCode> {
  const input = await loadInputOf(file, ['image'], '; make one with `keyvm run FILE --save IMAGE`');
  const view = viewImage(input.name, input.bytes, new Machine(input.store), input.debug);
  // Written a piece at a time: a machine of a million objects is never one string.
  await writeOutputPieces('-', flags.json ? jsonPieces(view) : batchLines(inspectLines(view)));
  return ExitCode.ok;
}

const amount = (n: number | null): string => (n === null ? 'unlimited' : n.toLocaleString('en-US'));

function* inspectLines(v: ImageView): Generator<string> {
  const p = paint(colourFor(process.stdout));
  const k = v.kernel;
  const more = (n: number, what: string): string => `… ${n.toLocaleString('en-US')} more ${what}`;
  yield `${p.bold('image')}    ${v.file}`;
  yield `format   version ${v.format.version}, ${v.format.bytes.toLocaleString('en-US')} bytes`;
  yield `sha256   ${v.format.sha256}`;
  const fault =
    k.fault === null
      ? 'none'
      : `${k.fault.code} (${k.fault.number}) at pc ${k.fault.pc} in domain ${k.fault.domainName === undefined ? '' : `${shownName(k.fault.domainName)} `}#${k.fault.domain}` +
        (k.fault.file === undefined ? '' : ` (${escapeText(k.fault.file)}:${k.fault.line}:${k.fault.col})`);
  const queue = k.runQueue.map((id) => `#${id}`);
  if (k.runQueueOmitted > 0) queue.splice(queue.length / 2, 0, more(k.runQueueOmitted, 'queued'));
  yield `kernel   root #${k.root}, active ${k.active === 0 ? '-' : `#${k.active}`}, run queue [${queue.join(' ')}], ` +
    `steps ${k.steps.toLocaleString('en-US')}, quantum ${k.quantum} (${k.sliceLeft} left), fault ${fault}`;
  yield '';
  yield p.bold(`domains (${v.domains.length})`);
  for (const d of v.domains) {
    const top = d.stack.slice(-16);
    const stack = `[${d.sp > top.length ? ['…', ...top].join(' ') : top.join(' ')}]`;
    const name = d.name === undefined ? '' : ` ${shownName(d.name)}`;
    yield `  #${d.id}${name}${d.root ? ' (root)' : ''}  ${d.state}, ip ${d.ip}, sp ${d.sp}, stack ${stack}`;
    yield* slotLines(d.slots, d.slotsOmitted, true);
  }
  yield '';
  yield p.bold(`meters (${v.meters.length})`);
  for (const m of meterTreeOrder(v.meters)) {
    const indent = '  '.repeat(m.depth + 1);
    const keeper = m.keeper === 'null' ? '' : `, keeper ${m.keeper}`;
    const parent = m.parent === null ? ' (prime)' : ` (child of #${m.parent})`;
    yield `${indent}#${m.id} ${m.resource}${parent}: ${amount(m.remaining)} left${keeper}`;
  }
  yield '';
  yield p.bold(`pages (${v.pages.length})`);
  for (const pg of v.pages) {
    const unit = pg.type === 'data' ? 'words' : 'slots';
    const role = pg.domain ? ', a domain' : '';
    yield `  #${pg.id} ${pg.type.padEnd(4)} ${pg.size} ${unit}, memory meter #${pg.meter}${role}`;
    if (pg.words !== undefined && pg.words.length > 0)
      yield `      ${wordsText(pg.words, pg.wordsOmitted ?? 0)}`;
    yield* slotLines(pg.slots ?? [], pg.slotsOmitted ?? 0, false);
  }
  yield '';
  yield p.bold(`devices (${v.devices.length})`);
  for (const d of v.devices) yield `  #${d.id} ${d.type}, transcript ${d.transcript} words`;
}

/** A data page's bounded words on one line: `[1 2 3]`, or its first and last 16 around a count. */
function wordsText(words: readonly number[], omitted: number): string {
  if (omitted === 0) return `[${words.join(' ')}]`;
  const half = words.length / 2;
  const more = `… ${omitted.toLocaleString('en-US')} more words …`;
  return `[${words.slice(0, half).join(' ')} ${more} ${words.slice(half).join(' ')}]`;
}

/** A key page's held keys (bounded), with a line for those left out in the middle. */
function* slotLines(slots: readonly SlotView[], omitted: number, domain: boolean): Generator<string> {
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    if (omitted > 0 && i === slots.length / 2) yield `      … ${omitted.toLocaleString('en-US')} more keys`;
    if (domain && (s.slot === DomainSlot.STATE || s.slot === DomainSlot.IP || s.slot === DomainSlot.POINTER))
      continue;
    yield domain
      ? `      ${String(s.slot).padStart(2)} ${s.name.padEnd(10)} ${s.key}`
      : `      ${String(s.slot).padStart(2)} ${s.key}`;
  }
}

/** Meters in tree order: each prime meter, then its children depth-first, by id. */
function meterTreeOrder<M extends { id: number; parent: number | null }>(meters: readonly M[]): M[] {
  const children = new Map<number | null, M[]>();
  for (const m of meters) {
    const list = children.get(m.parent) ?? [];
    list.push(m);
    children.set(m.parent, list);
  }
  const out: M[] = [];
  const visit = (parent: number | null): void => {
    for (const m of children.get(parent) ?? []) {
      out.push(m);
      visit(m.id);
    }
  };
  visit(null);
  return out;
}
