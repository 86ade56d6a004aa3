// Meter instructions: CREATEMETER, METERREAD, METERSET, METERKEEPER. The running
// domain's borrow is settled first so every counter is exact, and taken again after.
import { DomainSlot, fail, type Key, KeyKind, UNLIMITED } from '@keyvm/core';
import type { Cpu } from '../cpu.js';
import { complete, operands, ownSlot, writableOwnSlot } from './operands.js';

const amountOf = (word: number): number => {
  if (word === -1) return UNLIMITED;
  if (word < 0) fail('bad-argument', `meter amount ${word} is negative (only -1, unlimited, is allowed)`);
  return word;
};

/** The running domain's MEMORY key, which pays for the meters it makes. */
export const memoryOf = (cpu: Cpu): Key => cpu.domain!.slots[DomainSlot.MEMORY]!;

export function createMeter(cpu: Cpu): void {
  const b = operands(cpu, 3, 'CREATEMETER');
  const [dst, parent, amount] = [cpu.stack[b]!, cpu.stack[b + 1]!, cpu.stack[b + 2]!];
  const parentKey = ownSlot(cpu, parent);
  const page = writableOwnSlot(cpu, dst, KeyKind.meter, cpu.store.meter(parentKey, false).resource);
  // The new meter's memory is paid from the domain's MEMORY meter.
  page.slots[dst] = cpu.store.createMeter(parentKey, amountOf(amount), memoryOf(cpu));
  complete(cpu, b);
  cpu.refresh();
}

export function meterRead(cpu: Cpu): void {
  const b = operands(cpu, 1, 'METERREAD');
  const meter = cpu.store.meter(ownSlot(cpu, cpu.stack[b]!), false);
  cpu.settle();
  const left = meter.remaining === UNLIMITED ? -1 : Math.min(meter.remaining, 0x7fffffff);
  complete(cpu, b, left);
  cpu.refreshMeter();
}

export function meterSet(cpu: Cpu): void {
  const b = operands(cpu, 2, 'METERSET');
  const key = ownSlot(cpu, cpu.stack[b]!);
  const amount = amountOf(cpu.stack[b + 1]!);
  // Validate before settling: a faulting instruction is charged nothing.
  if (cpu.store.meter(key, true).parent === null)
    fail('rights-violation', 'a prime meter is set by the embedder only');
  cpu.settle();
  cpu.store.setMeter(key, amount);
  complete(cpu, b);
  cpu.refreshMeter();
}

export function meterKeeper(cpu: Cpu): void {
  const b = operands(cpu, 2, 'METERKEEPER');
  cpu.store.setMeterKeeper(ownSlot(cpu, cpu.stack[b]!), ownSlot(cpu, cpu.stack[b + 1]!));
  complete(cpu, b);
}
