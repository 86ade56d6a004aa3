// Page instructions: CREATEPAGE, PAGETYPE, PAGESIZESET, PAGESIZEGET, PAGEREAD,
// PAGEWRITE, DESTROY. All rights and bounds checks are the store's.
import { KeyKind } from '@keyvm/core';
import type { Cpu } from '../cpu.js';
import { complete, operands, ownSlot, writableOwnSlot } from './operands.js';

export function createPage(cpu: Cpu): void {
  const b = operands(cpu, 4, 'CREATEPAGE');
  const s = cpu.stack;
  const [slot, type, meterSlot, size] = [s[b]!, s[b + 1]!, s[b + 2]!, s[b + 3]!];
  const page = writableOwnSlot(cpu, slot, KeyKind.page);
  const meterKey = ownSlot(cpu, meterSlot);
  page.slots[slot] = cpu.store.createPage(type, meterKey, size);
  complete(cpu, b);
  cpu.refresh();
}

export function pageType(cpu: Cpu): void {
  const b = operands(cpu, 1, 'PAGETYPE');
  complete(cpu, b, cpu.store.pageType(ownSlot(cpu, cpu.stack[b]!)));
}

export function pageSizeGet(cpu: Cpu): void {
  const b = operands(cpu, 1, 'PAGESIZEGET');
  complete(cpu, b, cpu.store.pageSize(ownSlot(cpu, cpu.stack[b]!)));
}

export function pageSizeSet(cpu: Cpu): void {
  const b = operands(cpu, 2, 'PAGESIZESET');
  const s = cpu.stack;
  const key = ownSlot(cpu, s[b]!);
  const size = s[b + 1]!;
  cpu.store.resizePage(key, size);
  complete(cpu, b);
  // The running stack resized: its words were copied with the operands still on it.
  const stack = cpu.stackPage;
  if (stack !== null && stack.words !== cpu.stack)
    stack.words.fill(0, b, Math.min(b + 2, stack.words.length));
  cpu.refresh();
}

export function pageRead(cpu: Cpu): void {
  const b = operands(cpu, 2, 'PAGEREAD');
  const s = cpu.stack;
  complete(cpu, b, cpu.store.readWord(ownSlot(cpu, s[b]!), s[b + 1]!));
}

export function pageWrite(cpu: Cpu): void {
  const b = operands(cpu, 3, 'PAGEWRITE');
  const s = cpu.stack;
  cpu.store.writeWord(ownSlot(cpu, s[b]!), s[b + 1]!, s[b + 2]!);
  complete(cpu, b);
}

export function destroy(cpu: Cpu): void {
  const b = operands(cpu, 1, 'DESTROY');
  cpu.store.destroyPage(ownSlot(cpu, cpu.stack[b]!));
  complete(cpu, b);
  cpu.refresh();
}
