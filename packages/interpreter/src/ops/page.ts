// Page instructions: CREATEPAGE, PAGETYPE, PAGESIZESET, PAGESIZEGET, PAGEREAD,
// PAGEWRITE, DESTROY. All rights and bounds checks are the store's. Each takes its
// operands off the stack before it touches a page (see `takeOperands`), so one on
// the domain's own stack page sees them gone, as in KeyVM.
import { KeyKind } from '@keyvm/core';
import { INSTRUCTIONS, Op, operandPositions } from '@keyvm/isa';
import type { Cpu } from '../cpu.js';
import { complete, ownSlot, takeOperands, writableOwnSlot } from './operands.js';

// Where each instruction's operands sit, read from the table's operands column.
const CREATEPAGE = operandPositions(INSTRUCTIONS[Op.CREATEPAGE]);
const PAGETYPE = operandPositions(INSTRUCTIONS[Op.PAGETYPE]);
const PAGESIZEGET = operandPositions(INSTRUCTIONS[Op.PAGESIZEGET]);
const PAGESIZESET = operandPositions(INSTRUCTIONS[Op.PAGESIZESET]);
const PAGEREAD = operandPositions(INSTRUCTIONS[Op.PAGEREAD]);
const PAGEWRITE = operandPositions(INSTRUCTIONS[Op.PAGEWRITE]);
const DESTROY = operandPositions(INSTRUCTIONS[Op.DESTROY]);

export function createPage(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.CREATEPAGE);
  const slot = o[CREATEPAGE.slot]!;
  const page = writableOwnSlot(cpu, slot, KeyKind.page);
  const meterKey = ownSlot(cpu, o[CREATEPAGE.meter]!);
  page.slots[slot] = cpu.store.createPage(o[CREATEPAGE.type]!, meterKey, o[CREATEPAGE.size]!);
  complete(cpu);
  cpu.refresh();
}

export function pageType(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.PAGETYPE);
  complete(cpu, cpu.store.pageType(ownSlot(cpu, o[PAGETYPE.slot]!)));
}

export function pageSizeGet(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.PAGESIZEGET);
  complete(cpu, cpu.store.pageSize(ownSlot(cpu, o[PAGESIZEGET.slot]!)));
}

export function pageSizeSet(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.PAGESIZESET);
  cpu.store.resizePage(ownSlot(cpu, o[PAGESIZESET.slot]!), o[PAGESIZESET.size]!);
  complete(cpu);
  cpu.refresh(); // the running stack or code page may have been resized
}

export function pageRead(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.PAGEREAD);
  complete(cpu, cpu.store.readWord(ownSlot(cpu, o[PAGEREAD.slot]!), o[PAGEREAD.index]!));
}

export function pageWrite(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.PAGEWRITE); // word slot index: KeyVM's order
  cpu.store.writeWord(ownSlot(cpu, o[PAGEWRITE.slot]!), o[PAGEWRITE.index]!, o[PAGEWRITE.word]!);
  complete(cpu);
}

export function destroy(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.DESTROY);
  cpu.store.destroyPage(ownSlot(cpu, o[DESTROY.slot]!));
  complete(cpu);
  cpu.refresh();
}
