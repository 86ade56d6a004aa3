// The host devices a DEVICE instruction reaches, as data: each device type, the
// slot a booted root domain holds its key in, and its operations with their
// argument and result. The interpreter, the assembler's predefined names and
// docs/isa.md read this table.

export interface DeviceOperation {
  /** DEVICE's `op` operand. */
  readonly code: number;
  /** Name in lower camel case; the assembler predefines DEVICE_NAME (e.g. CONSOLE_PUTCHAR). */
  readonly name: string;
  /** What DEVICE's `arg` operand means ('-' when it is ignored). */
  readonly arg: string;
  /** What DEVICE pushes. */
  readonly result: string;
  readonly doc: string;
}

export interface DeviceInfo {
  /** The device type a device object carries. */
  readonly type: number;
  readonly name: string;
  /** The root domain slot its key is in after boot (with devices). */
  readonly bootSlot: number;
  readonly ops: readonly DeviceOperation[];
}

/** Every device type, by type number. */
// biome-ignore format: one row per operation reads as a table
export const DEVICES: readonly DeviceInfo[] = Object.freeze([
  { type: 0, name: 'console', bootSlot: 12, ops: Object.freeze([
    { code: 0, name: 'putChar', arg: 'code point', result: '0', doc: 'Write the character (a Unicode code point, 0..0x10FFFF).' },
    { code: 1, name: 'putNumber', arg: 'n', result: '0', doc: 'Write n as a signed decimal number.' },
  ]) },
  { type: 1, name: 'input', bootSlot: 13, ops: Object.freeze([
    { code: 0, name: 'read', arg: '-', result: 'word', doc: 'Take the next input word; the domain blocks while there is none.' },
    { code: 1, name: 'pending', arg: '-', result: 'count', doc: 'How many input words are waiting.' },
  ]) },
  { type: 2, name: 'clock', bootSlot: 14, ops: Object.freeze([
    { code: 0, name: 'now', arg: '-', result: 'time', doc: "The host's time if the host gives a clock, else the machine's step count (deterministic)." },
  ]) },
]);
