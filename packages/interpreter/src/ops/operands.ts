// Operand access shared by the heavy handlers: popping with an underflow check,
// reading the running domain's slots, and guest writes into key pages (which may
// never touch a domain's STATE, nor the running domain's IP and POINTER).
import {
  DomainSlot,
  domainSlotProblem,
  fail,
  type Key,
  KeyKind,
  type KeyPage,
  numberKey,
  type Resource,
  SPECIAL_SLOTS,
} from '@keyvm/core';
import { INSTRUCTIONS, type Opcode } from '@keyvm/isa';
import type { Cpu } from '../cpu.js';

/** Operands by opcode, from the table (a typed array: one load on the hot path). */
const POPS = Uint8Array.from(INSTRUCTIONS, (r) => r.pops);

/**
 * Take instruction `op`'s operands off the stack before it touches any page, as
 * KeyVM pops them first: as many as the instruction table's `operands` column
 * lists, copied to `cpu.operands` in its order (first pushed first; index them with
 * `operandPositions`), zeroed on the stack (as every pop zeroes) and the stack
 * pointer lowered, so a page instruction on the domain's own stack page sees them
 * gone. Faults stack-underflow when the stack holds fewer. A fault after this puts
 * them back (`restoreOperands`): a faulting instruction leaves the stack as it was.
 */
export function takeOperands(cpu: Cpu, op: Opcode): Int32Array {
  const sp = cpu.sp;
  const n = POPS[op]!;
  if (sp < n) fail('stack-underflow', underflowMessage(op, sp));
  const stack = cpu.stack;
  const taken = cpu.operands;
  const base = sp - n;
  for (let i = 0; i < n; i++) {
    taken[i] = stack[base + i]!;
    stack[base + i] = 0;
  }
  cpu.sp = base;
  cpu.taken = n;
  return taken;
}

/** What a stack underflow says: `PAGEWRITE needs 3 words (word slot index), the stack holds 1`. */
export function underflowMessage(op: Opcode, sp: number): string {
  const row = INSTRUCTIONS[op];
  const names = row.operands.map((o) => o.name).join(' ');
  return `${row.name} needs ${row.pops} word${row.pops === 1 ? '' : 's'} (${names}), the stack holds ${sp}`;
}

/** Put back the operands `takeOperands` took (the instruction faulted or blocks to be retried). */
export function restoreOperands(cpu: Cpu): void {
  const n = cpu.taken;
  const stack = cpu.stack;
  for (let i = 0; i < n; i++) stack[cpu.sp + i] = cpu.operands[i]!;
  cpu.sp += n;
  cpu.taken = 0;
}

/** Finish an instruction whose operands were taken: push `results` and advance. */
export function complete(cpu: Cpu, ...results: number[]): void {
  let sp = cpu.sp;
  for (const r of results) cpu.stack[sp++] = r | 0;
  cpu.sp = sp;
  cpu.ip += 1;
}

/**
 * The key in slot `slot` of the running domain's page as stored, which may be void
 * (for handlers whose store call checks liveness itself). Its IP and POINTER live
 * in registers while it runs, so those slots read the registers.
 */
export function slotKey(cpu: Cpu, slot: number): Key {
  const page = cpu.domain!;
  if (!Number.isInteger(slot) || slot < 0 || slot >= page.slots.length) {
    fail('out-of-bounds', `slot ${slot} is outside the domain page (size ${page.size})`);
  }
  if (slot === (4 satisfies typeof DomainSlot.IP)) return numberKey(cpu.ip);
  if (slot === (6 satisfies typeof DomainSlot.POINTER)) return numberKey(cpu.sp);
  cpu.slotsRead.push(slot); // for the fault message, should the key not do (ops/describe.ts)
  return page.slots[slot]!;
}

/** The key in slot `slot` of the running domain's page, as it reads now (a void key reads as null). */
export function ownSlot(cpu: Cpu, slot: number): Key {
  return cpu.store.normalize(slotKey(cpu, slot));
}

/**
 * Check that a guest may write a key of `kind` (a meter of `resource`) into slot `index` of the key page `pageKey`
 * designates and return the page; the caller then assigns `page.slots[index]`.
 * A domain's special slots take only the kinds of key the layout allows; STATE is
 * the machine's, and the running domain's IP and POINTER live in registers.
 */
export function writableSlot(
  cpu: Cpu,
  pageKey: Key,
  index: number,
  kind: KeyKind,
  resource?: Resource,
): KeyPage {
  const page = cpu.store.keyPage(pageKey, true);
  if (!Number.isInteger(index) || index < 0 || index >= page.size) {
    fail('out-of-bounds', `slot ${index} is outside the key page (size ${page.size})`);
  }
  if (page.isDomain && index < SPECIAL_SLOTS) {
    if (index === DomainSlot.STATE) fail('rights-violation', 'a domain’s STATE slot belongs to the machine');
    if (page === cpu.domain && (index === DomainSlot.IP || index === DomainSlot.POINTER)) {
      fail('rights-violation', 'a running domain cannot write its own IP or POINTER slot');
    }
    const problem = domainSlotProblem(index, kind, resource);
    if (problem !== undefined) fail('wrong-kind', problem);
  }
  return page;
}

/** The kind of a live key and, for a meter key, its meter's resource. */
export function kindOf(cpu: Cpu, key: Key): [KeyKind, Resource?] {
  const k = cpu.store.normalize(key);
  return k.kind === KeyKind.meter ? [k.kind, cpu.store.meter(k, false).resource] : [k.kind];
}

/** Check that the running domain may write a key of `kind` into its own slot `slot`; returns its page. */
export function writableOwnSlot(cpu: Cpu, slot: number, kind: KeyKind, resource?: Resource): KeyPage {
  return writableSlot(cpu, cpu.store.pageKey(cpu.domain!), slot, kind, resource);
}
