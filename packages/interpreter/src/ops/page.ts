// Page instructions: CREATEPAGE, PAGETYPE, PAGESIZESET, PAGESIZEGET, PAGEREAD,
// PAGEWRITE, DESTROY. All rights and bounds checks are the store's. Each takes its
// operands off the stack before it touches a page (see `takeOperands`), so one on
// the domain's own stack page sees them gone, as in KeyVM.
import { KeyKind } from '@keyvm/core';
import type { Cpu } from '../cpu.js';
import { complete, ownSlot, takeOperands, writableOwnSlot } from './operands.js';

export function createPage(cpu: Cpu): void {
  const o = takeOperands(cpu, 4, 'CREATEPAGE'); // slot type meter size
  const slot = o[0]!;
  const page = writableOwnSlot(cpu, slot, KeyKind.page);
  const meterKey = ownSlot(cpu, o[2]!);
  page.slots[slot] = cpu.store.createPage(o[1]!, meterKey, o[3]!);
  complete(cpu);
  cpu.refresh();
}

export function pageType(cpu: Cpu): void {
  const o = takeOperands(cpu, 1, 'PAGETYPE'); // slot
  complete(cpu, cpu.store.pageType(ownSlot(cpu, o[0]!)));
}

export function pageSizeGet(cpu: Cpu): void {
  const o = takeOperands(cpu, 1, 'PAGESIZEGET'); // slot
  complete(cpu, cpu.store.pageSize(ownSlot(cpu, o[0]!)));
}

export function pageSizeSet(cpu: Cpu): void {
  const o = takeOperands(cpu, 2, 'PAGESIZESET'); // slot size
  cpu.store.resizePage(ownSlot(cpu, o[0]!), o[1]!);
  complete(cpu);
  cpu.refresh(); // the running stack or code page may have been resized
}

export function pageRead(cpu: Cpu): void {
  const o = takeOperands(cpu, 2, 'PAGEREAD'); // slot index
  complete(cpu, cpu.store.readWord(ownSlot(cpu, o[0]!), o[1]!));
}

export function pageWrite(cpu: Cpu): void {
  const o = takeOperands(cpu, 3, 'PAGEWRITE'); // word slot index: KeyVM's order
  cpu.store.writeWord(ownSlot(cpu, o[1]!), o[2]!, o[0]!);
  complete(cpu);
}

export function destroy(cpu: Cpu): void {
  const o = takeOperands(cpu, 1, 'DESTROY'); // slot
  cpu.store.destroyPage(ownSlot(cpu, o[0]!));
  complete(cpu);
  cpu.refresh();
}
