// Key instructions: COPYKEY, ATTENUATE, KEYTYPE, SEVER, NUMKEY, KEYNUM, MAKEDOMAIN.
import { fail, KeyKind, numberKey } from '@keyvm/core';
import type { Cpu } from '../cpu.js';
import { memoryOf } from './meter.js';
import { complete, kindOf, operands, ownSlot, writableOwnSlot, writableSlot } from './operands.js';

function copyOrAttenuate(cpu: Cpu, attenuate: boolean): void {
  const name = attenuate ? 'ATTENUATE' : 'COPYKEY';
  const b = operands(cpu, attenuate ? 5 : 4, name);
  const s = cpu.stack;
  const [dPage, dIdx, sPage, sIdx] = [s[b]!, s[b + 1]!, s[b + 2]!, s[b + 3]!];
  const store = cpu.store;
  const source = ownSlot(cpu, sPage);
  // Reading the running domain's own page: its IP and POINTER slots must be current.
  if (source.target === cpu.domain!.id) cpu.writeRegisters();
  const key = store.getSlot(source, sIdx);
  // What lands in the destination: attenuation keeps a key's kind, but for page keys.
  const [kind, resource] = kindOf(cpu, key);
  const landing = attenuate && s[b + 4] !== 0 && kind === KeyKind.page ? KeyKind.readPage : kind;
  const dest = writableSlot(cpu, ownSlot(cpu, dPage), dIdx, landing, resource);
  // Attenuating a meter may create a child meter: do it only once the write is known to
  // succeed. Its share is of what the meter has now: the running domain's borrow is
  // settled first (as METERREAD does), so the share never depends on how the run is cut.
  const share = attenuate && kind === KeyKind.meter && s[b + 4]! >= 2;
  if (share) {
    store.checkNewMeter(key, memoryOf(cpu)); // what could fail, before settling: a fault is charged nothing
    cpu.settle();
  }
  dest.slots[dIdx] = attenuate ? store.attenuate(key, s[b + 4]!, memoryOf(cpu)) : key;
  complete(cpu, b);
  if (share) cpu.refreshMeter();
  if (dest === cpu.domain) cpu.refresh();
}

export const copyKey = (cpu: Cpu): void => copyOrAttenuate(cpu, false);
export const attenuate = (cpu: Cpu): void => copyOrAttenuate(cpu, true);

export function keyType(cpu: Cpu): void {
  const b = operands(cpu, 1, 'KEYTYPE');
  complete(cpu, b, ownSlot(cpu, cpu.stack[b]!).kind);
}

export function sever(cpu: Cpu): void {
  const b = operands(cpu, 1, 'SEVER');
  const slot = cpu.stack[b]!;
  const page = writableOwnSlot(cpu, slot, ...kindOf(cpu, ownSlot(cpu, slot)));
  const fresh = cpu.store.sever(ownSlot(cpu, slot));
  page.slots[slot] = fresh;
  complete(cpu, b);
  // The running domain's own meter, code or stack may have been severed.
  cpu.settle();
  cpu.refresh();
}

export function numKey(cpu: Cpu): void {
  const b = operands(cpu, 2, 'NUMKEY');
  const slot = cpu.stack[b]!;
  writableOwnSlot(cpu, slot, KeyKind.number).slots[slot] = numberKey(cpu.stack[b + 1]!);
  complete(cpu, b);
  cpu.refresh();
}

export function keyNum(cpu: Cpu): void {
  const b = operands(cpu, 1, 'KEYNUM');
  const key = ownSlot(cpu, cpu.stack[b]!);
  if (key.kind === KeyKind.null) fail('null-key', 'KEYNUM on a null or void key');
  if (key.kind !== KeyKind.number) fail('wrong-kind', 'KEYNUM needs a number key');
  complete(cpu, b, key.value);
}

export function makeDomain(cpu: Cpu): void {
  const b = operands(cpu, 2, 'MAKEDOMAIN');
  const [dst, src] = [cpu.stack[b]!, cpu.stack[b + 1]!];
  const own = writableOwnSlot(cpu, dst, KeyKind.domain);
  own.slots[dst] = cpu.store.makeDomain(ownSlot(cpu, src));
  complete(cpu, b);
  cpu.refresh();
}
