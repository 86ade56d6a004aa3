// Test-only helpers for the interpreter's tests: code with labels, building domains
// from the host side, a structural snapshot of a whole machine, and the check that
// a faulting instruction changed nothing. Not exported from index.ts.
import {
  DOMAIN_SLOTS,
  DomainSlot,
  type FaultName,
  type Key,
  type KeyPage,
  numberKey,
  PageType,
  type StoreSnapshot,
  snapshotStore,
} from '@keyvm/core';
import { expect } from 'vitest';
import { type BootOptions, Machine } from './machine.js';
import { code } from './test-support.js';
import type { RunResult } from './types.js';

/** Seed of every property test; KEYVM_SEED replays another. */
export const SEED = Number(process.env.KEYVM_SEED ?? 20261121);

/** Items of `asm`: mnemonics, words, `'label:'` and `':label'`. */
export type Items = (string | number)[];

/**
 * `items` run only in the round where the loop counter (on top of the stack) is
 * `round`; `id` makes its label unique. Random programs put their rare changes in
 * one round so that runs get deep before them.
 */
export const gated = (items: Items, round: number, id: number): Items => [
  ...['PICK', 0, 'PUSH', round, 'EQ', 'ISZERO', `:skip${id}`, 'SWAP', 'JUMPIF'],
  ...items,
  `skip${id}:`,
];

/**
 * `code(...)` with labels: `'loop:'` defines a label at the current word offset,
 * `':loop'` pushes its address (PUSH addr, two words).
 */
export function asm(...items: (string | number)[]): Int32Array {
  const labels = new Map<string, number>();
  let at = 0;
  for (const item of items) {
    if (typeof item === 'string' && item.endsWith(':')) labels.set(item.slice(0, -1), at);
    else if (typeof item === 'string' && item.startsWith(':')) at += 2;
    else at += 1;
  }
  const out: (string | number)[] = [];
  for (const item of items) {
    if (typeof item === 'string' && item.endsWith(':')) continue;
    if (typeof item === 'string' && item.startsWith(':')) {
      const addr = labels.get(item.slice(1));
      if (addr === undefined) throw new Error(`unknown label ${item}`);
      out.push('PUSH', addr);
    } else out.push(item);
  }
  return code(...out);
}

/** Boot a program given as `asm` items. */
export function boot(items: (string | number)[], options: BootOptions = {}, data?: number[]): Machine {
  return Machine.boot(data ? { code: asm(...items), data } : { code: asm(...items) }, options);
}

/** The root domain's key page. */
export function rootPage(m: Machine): KeyPage {
  return m.store.object(m.rootDomain) as KeyPage;
}

export interface ChildOptions {
  /** Root slot that receives the gate key (default: none). */
  slot?: number;
  stackSize?: number;
  /** Initial stack, bottom first. */
  stack?: number[];
  /** TIME key (default: the root's). */
  time?: Key;
  /** Extra slots to fill, e.g. a DATA page key or a device key. */
  slots?: Record<number, Key>;
}

/** Build an available domain from the host side, like MAKEDOMAIN would; returns its page. */
export function addDomain(m: Machine, items: (string | number)[], options: ChildOptions = {}): KeyPage {
  const store = m.store;
  const root = rootPage(m);
  const mem = root.slots[DomainSlot.MEMORY]!;
  const words = asm(...items);
  const codeKey = store.createPage(PageType.data, mem, words.length);
  store.dataPage(codeKey, true).words.set(words);
  const stack = options.stack ?? [];
  const stackKey = store.createPage(PageType.data, mem, options.stackSize ?? 16);
  store.dataPage(stackKey, true).words.set(stack);
  const pageKey = store.createPage(PageType.keys, mem, DOMAIN_SLOTS);
  const page = store.keyPage(pageKey, true);
  page.slots[DomainSlot.TIME] = options.time ?? root.slots[DomainSlot.TIME]!;
  page.slots[DomainSlot.MEMORY] = mem;
  page.slots[DomainSlot.CODE] = codeKey;
  page.slots[DomainSlot.STACK] = stackKey;
  for (const [i, k] of Object.entries(options.slots ?? {})) page.slots[Number(i)] = k;
  page.slots[DomainSlot.POINTER] = numberKey(stack.length);
  const gate = store.makeDomain(pageKey);
  if (options.slot !== undefined) root.slots[options.slot] = gate;
  return page;
}

/** Create a data page of `size` words from the host side, charged to the prime memory meter. */
export function hostDataPage(m: Machine, words: number[] | number): Key {
  const size = typeof words === 'number' ? words : words.length;
  const key = m.store.createPage(PageType.data, rootPage(m).slots[DomainSlot.MEMORY]!, size);
  if (typeof words !== 'number') m.store.dataPage(key, true).words.set(words);
  return key;
}

/** The words of the data page `key` designates. */
export function pageWords(m: Machine, key: Key): number[] {
  return Array.from(m.store.dataPage(key, false).words);
}

/** Everything observable in a machine, as plain data that `toEqual` compares. */
export interface Snapshot extends StoreSnapshot {
  readonly output: string;
}

export function snapshot(m: Machine): Snapshot {
  return { ...snapshotStore(m.store), output: m.output };
}

/**
 * What a fault may change, given the machine before it: the faulted domain's STATE
 * slot (now 'faulted'), the kernel's active domain and its fault record. Returns
 * `after` with exactly those put back as they were, for a `toEqual` with `before`.
 */
export function undoFaultRecord(before: Snapshot, after: Snapshot, domain: number): Snapshot {
  const objects = after.objects.map((o) => {
    if (o.keys !== domain) return o;
    const prev = before.objects.find((p) => p.keys === domain);
    const slots = [...(o.slots as string[])];
    expect(slots[DomainSlot.STATE]).toBe('number(3)');
    slots[DomainSlot.STATE] = (prev?.slots as string[] | undefined)?.[DomainSlot.STATE] ?? '?';
    return { ...o, slots };
  });
  const k = before.kernel;
  const kernel = {
    ...after.kernel,
    active: k.active,
    faultCode: k.faultCode,
    faultPc: k.faultPc,
    faultDomain: k.faultDomain,
  };
  return { ...after, objects, kernel };
}

/**
 * Single-step `m` until an instruction faults (at most `limit` steps), then assert the
 * fault result `{status:'fault', fault:{code, pc, domain}}` and that the instruction
 * changed nothing: the domain's stack, IP and SP, every page and key, every meter.
 */
export function expectFaultAtomic(m: Machine, fault: FaultName, limit = 200): RunResult {
  for (let i = 0; i < limit; i++) {
    const before = snapshot(m);
    const views = new Map(m.domains().map((d) => [d.id, { ...d, stack: m.stack(d.id) }]));
    const r = m.step();
    if (r.status === 'paused') continue;
    expect(r.status, `expected a ${fault} fault, got ${JSON.stringify(r)}`).toBe('fault');
    const f = r.fault!;
    const prev = views.get(f.domain)!;
    expect(prev, `fault in unknown domain #${f.domain}`).toBeDefined();
    expect({ code: f.code, pc: f.pc, domain: f.domain }).toEqual({
      code: fault,
      pc: prev.ip,
      domain: f.domain,
    });
    expect(r.steps).toBe(0);
    expect(r.gasUsed).toBe(0);
    const now = m.domain(f.domain);
    expect(now.stateName).toBe('faulted');
    expect(now.ip).toBe(prev.ip);
    expect(now.sp).toBe(prev.sp);
    expect(m.stack(f.domain)).toEqual(prev.stack);
    const after = snapshot(m);
    expect(undoFaultRecord(before, after, f.domain)).toEqual(before);
    expect(m.store.kernel.faultCode).toBe(f.number);
    return r;
  }
  throw new Error(`no fault within ${limit} steps`);
}

/** Run to the end and expect it to halt; returns the root's stack. */
export function runHalted(m: Machine): number[] {
  const r = m.run();
  expect(r.status, JSON.stringify(r)).toBe('halted');
  return m.stack();
}
