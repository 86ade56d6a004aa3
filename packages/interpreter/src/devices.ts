// Host devices: the only door from a guest to the host (PyVirtualMachine's ports,
// primea's imports). A guest reaches one only through a device key the embedder
// handed in. Words a device returns that the host chose are recorded in the
// device's transcript, so a run replays bit for bit.

import { DEVICES } from '@keyvm/isa';

export const DeviceType = Object.freeze({ console: 0, input: 1, clock: 2 } as const);
export type DeviceType = (typeof DeviceType)[keyof typeof DeviceType];

/**
 * Operations per device type, as DEVICE's `op` operand: the codes of `DEVICES` in
 * @keyvm/isa (the one table; devices.test.ts checks they agree).
 */
export const DeviceOp = Object.freeze({
  /** console: write the character with code point `arg`; result 0. */
  putChar: 0,
  /** console: write `arg` as a decimal number; result 0. */
  putNumber: 1,
  /** input: take the next word (the domain blocks while there is none). */
  read: 0,
  /** input: how many words are waiting. */
  pending: 1,
  /** clock: the current time. */
  now: 0,
} as const);

/** Each device type with its operations in one line, from the isa's DEVICES table. */
export const DEVICE_TABLE: readonly { type: number; name: string; ops: string }[] = Object.freeze(
  DEVICES.map((d) => ({
    type: d.type,
    name: d.name,
    ops: d.ops.map((o) => `op ${o.code} ${o.name}(${o.arg === '-' ? '' : o.arg}) -> ${o.result}`).join('; '),
  })),
);

/** What the embedder provides; everything is optional. */
export interface DeviceHost {
  /** Receives console output. Without it, output is collected in `machine.output`. */
  write?: (text: string) => void;
  /** Supplies the clock; without it the clock reads the machine's step count (deterministic). */
  clock?: () => number;
}
