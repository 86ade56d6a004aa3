// Host devices: the only door from a guest to the host (PyVirtualMachine's ports,
// primea's imports). A guest reaches one only through a device key the embedder
// handed in. Words a device returns that the host chose are recorded in the
// device's transcript, so a run replays bit for bit.

export const DeviceType = Object.freeze({ console: 0, input: 1, clock: 2 } as const);
export type DeviceType = (typeof DeviceType)[keyof typeof DeviceType];

/** Operations per device type, as DEVICE's `op` operand. */
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

export const DEVICE_TABLE = Object.freeze([
  { type: 0, name: 'console', ops: 'op 0 putChar(codePoint) -> 0; op 1 putNumber(n) -> 0' },
  { type: 1, name: 'input', ops: 'op 0 read() -> word (blocks while empty); op 1 pending() -> count' },
  { type: 2, name: 'clock', ops: 'op 0 now() -> host time if the host gives a clock, else the step count' },
] as const);

/** What the embedder provides; everything is optional. */
export interface DeviceHost {
  /** Receives console output. Without it, output is collected in `machine.output`. */
  write?: (text: string) => void;
  /** Supplies the clock; without it the clock reads the machine's step count (deterministic). */
  clock?: () => number;
}
