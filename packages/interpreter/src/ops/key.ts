// Key instructions: COPYKEY, ATTENUATE, KEYTYPE, SEVER, NUMKEY, KEYNUM, MAKEDOMAIN.
import { fail, KeyKind, numberKey } from '@keyvm/core';
import { INSTRUCTIONS, Op, operandPositions } from '@keyvm/isa';
import type { Cpu } from '../cpu.js';
import { memoryOf } from './meter.js';
import { complete, kindOf, ownSlot, takeOperands, writableOwnSlot, writableSlot } from './operands.js';

// Where each instruction's operands sit, read from the table's operands column
// (COPYKEY's are ATTENUATE's first four).
const ATTENUATE = operandPositions(INSTRUCTIONS[Op.ATTENUATE]);
const KEYTYPE = operandPositions(INSTRUCTIONS[Op.KEYTYPE]);
const SEVER = operandPositions(INSTRUCTIONS[Op.SEVER]);
const NUMKEY = operandPositions(INSTRUCTIONS[Op.NUMKEY]);
const KEYNUM = operandPositions(INSTRUCTIONS[Op.KEYNUM]);
const MAKEDOMAIN = operandPositions(INSTRUCTIONS[Op.MAKEDOMAIN]);

function copyOrAttenuate(cpu: Cpu, attenuate: boolean): void {
  const o = takeOperands(cpu, attenuate ? Op.ATTENUATE : Op.COPYKEY);
  const { dpage, didx, spage, sidx, option: optionAt } = ATTENUATE;
  const [dPage, dIdx, sPage, sIdx] = [o[dpage]!, o[didx]!, o[spage]!, o[sidx]!];
  const option = attenuate ? o[optionAt]! : 0;
  const store = cpu.store;
  const source = ownSlot(cpu, sPage);
  // Reading the running domain's own page: its IP and POINTER slots must be current.
  if (source.target === cpu.domain!.id) cpu.writeRegisters();
  const key = store.getSlot(source, sIdx);
  // What lands in the destination: attenuation keeps a key's kind, but for page keys.
  const [kind, resource] = kindOf(cpu, key);
  const landing = option !== 0 && kind === KeyKind.page ? KeyKind.readPage : kind;
  const dest = writableSlot(cpu, ownSlot(cpu, dPage), dIdx, landing, resource);
  // Attenuating a meter may create a child meter: do it only once the write is known to
  // succeed. Its share is of what the meter has now: the running domain's borrow is
  // settled first (as METERREAD does), so the share never depends on how the run is cut.
  const share = kind === KeyKind.meter && option >= 2;
  if (share) {
    store.checkNewMeter(key, memoryOf(cpu)); // what could fail, before settling: a fault is charged nothing
    cpu.settle();
  }
  dest.slots[dIdx] = attenuate ? store.attenuate(key, option, memoryOf(cpu)) : key;
  complete(cpu);
  if (share) cpu.refreshMeter();
  if (dest === cpu.domain) cpu.refresh();
}

export const copyKey = (cpu: Cpu): void => copyOrAttenuate(cpu, false);
export const attenuate = (cpu: Cpu): void => copyOrAttenuate(cpu, true);

export function keyType(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.KEYTYPE);
  complete(cpu, ownSlot(cpu, o[KEYTYPE.slot]!).kind);
}

export function sever(cpu: Cpu): void {
  const slot = takeOperands(cpu, Op.SEVER)[SEVER.slot]!;
  const page = writableOwnSlot(cpu, slot, ...kindOf(cpu, ownSlot(cpu, slot)));
  const fresh = cpu.store.sever(ownSlot(cpu, slot));
  page.slots[slot] = fresh;
  complete(cpu);
  // The running domain's own meter, code or stack may have been severed.
  cpu.settle();
  cpu.refresh();
}

export function numKey(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.NUMKEY);
  const slot = o[NUMKEY.slot]!;
  writableOwnSlot(cpu, slot, KeyKind.number).slots[slot] = numberKey(o[NUMKEY.word]!);
  complete(cpu);
  cpu.refresh();
}

export function keyNum(cpu: Cpu): void {
  const key = ownSlot(cpu, takeOperands(cpu, Op.KEYNUM)[KEYNUM.slot]!);
  if (key.kind === KeyKind.null) fail('null-key', 'KEYNUM on a null or void key');
  if (key.kind !== KeyKind.number) fail('wrong-kind', 'KEYNUM needs a number key');
  complete(cpu, key.value);
}

export function makeDomain(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.MAKEDOMAIN);
  const dst = o[MAKEDOMAIN.dst]!;
  const own = writableOwnSlot(cpu, dst, KeyKind.domain);
  own.slots[dst] = cpu.store.makeDomain(ownSlot(cpu, o[MAKEDOMAIN.src]!));
  complete(cpu);
  cpu.refresh();
}
