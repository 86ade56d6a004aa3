// DEVICE: invoke a host device through a device key. Words the host chose (input,
// a host clock, the pending count) are appended to the device's transcript; in
// replay mode they are read back from it instead of asking the host.
import { type Device, DomainState, fail } from '@keyvm/core';
import { type Cpu, Next } from '../cpu.js';
import { DeviceOp, DeviceType } from '../devices.js';
import { complete, ownSlot, restoreOperands, takeOperands } from './operands.js';

/** A word chosen by the host: replayed from the transcript, or asked for and recorded. */
function hostWord(cpu: Cpu, device: Device, ask: () => number | undefined): number | undefined {
  if (cpu.replay !== null) {
    const at = cpu.replay.get(device.id) ?? 0;
    if (at < device.transcript.length) {
      cpu.replay.set(device.id, at + 1);
      return device.transcript[at]!;
    }
  }
  const w = ask();
  if (w === undefined) return undefined;
  device.transcript.push(w | 0);
  if (cpu.replay !== null) cpu.replay.set(device.id, device.transcript.length);
  return w | 0;
}

export function deviceOp(cpu: Cpu, gas: number): Next {
  const o = takeOperands(cpu, 3, 'DEVICE'); // slot op arg
  const device = cpu.store.device(ownSlot(cpu, o[0]!));
  const op = o[1]!;
  const arg = o[2]!;
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
      cpu.gasLeft += gas;
      cpu.lastSteps--;
      cpu.setState(me, DomainState.blocked);
      cpu.suspend();
      cpu.enqueue(me);
      cpu.store.kernel.active = 0;
      return Next.switched;
    }
    case DeviceType.clock: {
      if (op !== DeviceOp.now) fail('bad-argument', `the clock has no operation ${op}`);
      const clock = cpu.host.clock;
      const now = clock ? hostWord(cpu, device, clock)! : cpu.store.kernel.steps + cpu.lastSteps;
      complete(cpu, now);
      return Next.continue;
    }
    default:
      return fail('wrong-kind', `device type ${device.deviceType} is not known to this machine`);
  }
}
