// DEVICE: invoke a host device through a device key. Words the host chose (input,
// a host clock, the pending count) are appended to the device's transcript, paid by
// the domain's MEMORY meter; in replay mode they are read back from it instead of
// asking the host (and paid alike, so a replay ends in the same state).
import { type Device, DomainState, fail, MEMORY_CHARGES, type Meter, Resource } from '@keyvm/core';
import { INSTRUCTIONS, Op, operandPositions } from '@keyvm/isa';
import { Next } from '../cpu/constants.js';
import type { Cpu } from '../cpu.js';
import { DeviceOp, DeviceType } from '../devices.js';
import { memoryOf } from './meter.js';
import { complete, ownSlot, restoreOperands, takeOperands } from './operands.js';

/** The running domain's memory meter, checked able to pay for one transcript word (faults changing nothing). */
function transcriptPayer(cpu: Cpu): Meter {
  const meter = cpu.store.meter(memoryOf(cpu), false);
  if (meter.resource !== Resource.memory) fail('wrong-kind', "the domain's MEMORY slot holds a time meter");
  if (cpu.store.available(meter) < MEMORY_CHARGES.deviceWord)
    fail('out-of-memory', `the memory meter cannot pay ${MEMORY_CHARGES.deviceWord} words for a device word`);
  return meter;
}

/**
 * A word chosen by the host: replayed from the transcript, or asked for and
 * recorded; either way the running domain's memory meter pays
 * `MEMORY_CHARGES.deviceWord` for it (checked before anything changes), so a
 * guest cannot grow a transcript past what its meter holds.
 */
function hostWord(cpu: Cpu, device: Device, ask: () => number | undefined): number | undefined {
  const payer = transcriptPayer(cpu);
  if (cpu.replay !== null) {
    const at = cpu.replay.get(device.id) ?? 0;
    if (at < device.transcript.length) {
      cpu.store.spend(payer, MEMORY_CHARGES.deviceWord);
      cpu.replay.set(device.id, at + 1);
      return device.transcript[at]!;
    }
  }
  const w = ask();
  if (w === undefined) return undefined;
  cpu.store.spend(payer, MEMORY_CHARGES.deviceWord);
  device.transcript.push(w | 0);
  if (cpu.replay !== null) cpu.replay.set(device.id, device.transcript.length);
  return w | 0;
}

/** Where DEVICE's operands sit, read from the table's operands column. */
const DEVICE = operandPositions(INSTRUCTIONS[Op.DEVICE]);

export function deviceOp(cpu: Cpu, gas: number): Next {
  const o = takeOperands(cpu, Op.DEVICE);
  const device = cpu.store.device(ownSlot(cpu, o[DEVICE.slot]!));
  const op = o[DEVICE.op]!;
  const arg = o[DEVICE.arg]!;
  switch (device.deviceType) {
    case DeviceType.console: {
      let text: string;
      if (op === DeviceOp.putChar) {
        if (arg < 0 || arg > 0x10ffff) fail('bad-argument', `${arg} is not a character code point`);
        text = String.fromCodePoint(arg);
      } else if (op === DeviceOp.putNumber) {
        text = String(arg);
      } else {
        fail('bad-argument', `the console has no operation ${op}`);
      }
      if (cpu.host.write) cpu.host.write(text);
      else cpu.collectOutput(text);
      complete(cpu, 0);
      return Next.continue;
    }
    case DeviceType.input: {
      if (op === DeviceOp.pending) {
        complete(cpu, hostWord(cpu, device, () => cpu.input.length)!);
        return Next.continue;
      }
      if (op !== DeviceOp.read) fail('bad-argument', `the input device has no operation ${op}`);
      const w = hostWord(cpu, device, () => cpu.input.shift());
      if (w !== undefined) {
        complete(cpu, w);
        return Next.continue;
      }
      // Nothing to read: block with the instruction not done, to be retried. It is
      // neither paid for nor counted as a step (the CPU counts it on return), so step
      // counts and the step clock do not depend on when input arrived, and replay agrees.
      const me = cpu.domain!;
      restoreOperands(cpu);
      cpu.undoInstruction(gas);
      cpu.setState(me, DomainState.blocked);
      cpu.suspend();
      cpu.enqueue(me);
      cpu.idle();
      return Next.switched;
    }
    case DeviceType.clock: {
      if (op !== DeviceOp.now) fail('bad-argument', `the clock has no operation ${op}`);
      const clock = cpu.host.clock;
      const now = clock ? hostWord(cpu, device, clock)! : cpu.stepClock();
      complete(cpu, now);
      return Next.continue;
    }
    default:
      return fail('wrong-kind', `device type ${device.deviceType} is not known to this machine`);
  }
}
