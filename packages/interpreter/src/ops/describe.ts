// Fault messages that say where and why: the slot an instruction read, the key it
// found there and the kind it needed ("slot 0 holds a meter key, PAGEREAD needs a
// page key"), built only when a fault happens.
import {
  DomainSlot,
  GuestFault,
  type Key,
  KeyKind,
  type KeyPage,
  MeterRights,
  ObjectKind,
  type Store,
} from '@keyvm/core';
import { DEVICES, INSTRUCTIONS } from '@keyvm/isa';
import type { Cpu } from '../cpu.js';

/** A key for people: its kind, and what it designates where that helps. */
export function describeKey(store: Store, raw: Key): string {
  const key = store.normalize(raw);
  switch (key.kind) {
    case KeyKind.null:
      return raw.kind === KeyKind.null
        ? 'the null key'
        : 'a void key (its object was revoked or destroyed, or the resume key was used)';
    case KeyKind.number:
      return `a number key (${key.value})`;
    case KeyKind.page:
    case KeyKind.readPage: {
      const page = store.deref(key);
      const what =
        page?.kind === ObjectKind.keyPage
          ? ' to a key page'
          : page?.kind === ObjectKind.dataPage
            ? ' to a data page'
            : '';
      return `a ${key.kind === KeyKind.readPage ? 'read-only ' : ''}page key${what}`;
    }
    case KeyKind.domain:
      return `a domain key (#${key.target})`;
    case KeyKind.resume:
      return 'a resume key';
    case KeyKind.meter:
      return (key.value & MeterRights.control) === 0 ? 'a use-only meter key' : 'a meter key';
    case KeyKind.device: {
      const device = store.deref(key);
      const name = device?.kind === ObjectKind.device ? DEVICES[device.deviceType]?.name : undefined;
      return name === undefined ? 'a device key' : `a device key (${name})`;
    }
    default:
      return 'a key';
  }
}

/** A domain slot's name: `slot 0 (TIME)` for the special slots, `slot 14` for the others. */
export function slotName(slot: number): string {
  const special = Object.entries(DomainSlot).find(([, n]) => n === slot)?.[0];
  return special === undefined ? `slot ${slot}` : `slot ${slot} (${special})`;
}

/**
 * ` for its spage operand` when instruction `op` takes more than one slot operand
 * (the table's operands column says which) and exactly one of them named `slot`;
 * otherwise nothing (the slot alone says which).
 */
function operandNamed(cpu: Cpu, op: number, slot: number): string {
  const operands = INSTRUCTIONS[op]?.operands ?? [];
  if (operands.filter((o) => o.kind === 'slot').length < 2) return '';
  const named = operands.filter((o, i) => o.kind === 'slot' && cpu.operands[i] === slot);
  return named.length === 1 ? ` for its ${named[0]!.name} operand` : '';
}

/**
 * The fault `e` raised by instruction `op`, retold with the slot whose key broke the
 * rule, when it is one of the running domain's slots the instruction read (the last
 * such read wins); otherwise `e` as it was.
 */
export function describeFault(cpu: Cpu, op: number, e: GuestFault): GuestFault {
  const key = e.key;
  const page: KeyPage | null = cpu.domain;
  if (key === undefined || e.wanted === undefined || page === null) return e;
  const store = cpu.store;
  const slots = cpu.slotsRead;
  for (let i = slots.length - 1; i >= 0; i--) {
    const slot = slots[i]!;
    const raw = page.slots[slot];
    if (raw === undefined || (raw !== key && store.normalize(raw) !== key)) continue;
    const name = INSTRUCTIONS[op]?.name ?? 'the instruction';
    return new GuestFault(
      e.fault,
      `${slotName(slot)} holds ${describeKey(store, raw)}, ${name} needs ${e.wanted}${operandNamed(cpu, op, slot)}`,
      {
        key,
        wanted: e.wanted,
      },
    );
  }
  return e;
}
