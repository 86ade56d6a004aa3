// Meter instructions: CREATEMETER, METERREAD, METERSET, METERKEEPER. The running
// domain's borrow is settled first so every counter is exact, and taken again after.
import { DomainSlot, fail, type Key, KeyKind, UNLIMITED } from '@keyvm/core';
import { INSTRUCTIONS, Op, operandPositions } from '@keyvm/isa';
import type { Cpu } from '../cpu.js';
import { complete, ownSlot, takeOperands, writableOwnSlot } from './operands.js';

const amountOf = (word: number): number => {
  if (word === -1) return UNLIMITED;
  if (word < 0) fail('bad-argument', `meter amount ${word} is negative (only -1, unlimited, is allowed)`);
  return word;
};

/** The running domain's MEMORY key, which pays for the meters it makes. */
export const memoryOf = (cpu: Cpu): Key => cpu.domain!.slots[DomainSlot.MEMORY]!;

// Where each instruction's operands sit, read from the table's operands column.
const CREATEMETER = operandPositions(INSTRUCTIONS[Op.CREATEMETER]);
const METERREAD = operandPositions(INSTRUCTIONS[Op.METERREAD]);
const METERSET = operandPositions(INSTRUCTIONS[Op.METERSET]);
const METERKEEPER = operandPositions(INSTRUCTIONS[Op.METERKEEPER]);

export function createMeter(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.CREATEMETER);
  const [dst, parent, amount] = [o[CREATEMETER.dst]!, o[CREATEMETER.parent]!, o[CREATEMETER.amount]!];
  const parentKey = ownSlot(cpu, parent);
  const page = writableOwnSlot(cpu, dst, KeyKind.meter, cpu.store.meter(parentKey, false).resource);
  // The new meter's memory is paid from the domain's MEMORY meter.
  page.slots[dst] = cpu.store.createMeter(parentKey, amountOf(amount), memoryOf(cpu));
  complete(cpu);
  cpu.refresh();
}

export function meterRead(cpu: Cpu): void {
  const slot = takeOperands(cpu, Op.METERREAD)[METERREAD.slot]!;
  const meter = cpu.store.meter(ownSlot(cpu, slot), false);
  cpu.settle();
  const left = meter.remaining === UNLIMITED ? -1 : Math.min(meter.remaining, 0x7fffffff);
  complete(cpu, left);
  cpu.refreshMeter();
}

export function meterSet(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.METERSET);
  const key = ownSlot(cpu, o[METERSET.slot]!);
  const amount = amountOf(o[METERSET.amount]!);
  // Validate before settling: a faulting instruction is charged nothing.
  if (cpu.store.meter(key, true).parent === null)
    fail('rights-violation', 'a prime meter is set by the embedder only');
  cpu.settle();
  cpu.store.setMeter(key, amount);
  complete(cpu);
  cpu.refreshMeter();
}

export function meterKeeper(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.METERKEEPER);
  cpu.store.setMeterKeeper(ownSlot(cpu, o[METERKEEPER.meter]!), ownSlot(cpu, o[METERKEEPER.keeper]!));
  complete(cpu);
}
