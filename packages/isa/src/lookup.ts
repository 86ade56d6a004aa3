// Look-ups over the instruction table: by code, by (case-insensitive) name, and
// the exhaustiveness helper every switch over opcodes ends with.
import { INSTRUCTIONS, type InstructionInfo, type Opcode } from './table.js';

const byName = new Map<string, InstructionInfo>(INSTRUCTIONS.map((r) => [r.name, r]));

/** The number of opcodes; valid opcodes are 0 .. OPCODE_COUNT-1. */
export const OPCODE_COUNT: number = INSTRUCTIONS.length;

/** True when `code` is a defined opcode. */
export function isOpcode(code: number): code is Opcode {
  return Number.isInteger(code) && code >= 0 && code < OPCODE_COUNT;
}

/** The row for an opcode, or undefined for an undefined code. */
export function instructionByCode(code: number): InstructionInfo | undefined {
  return isOpcode(code) ? INSTRUCTIONS[code] : undefined;
}

/** The row for a mnemonic (case-insensitive), or undefined. */
export function instructionByName(name: string): InstructionInfo | undefined {
  return byName.get(name.toUpperCase());
}

/** Words an instruction occupies in a code page: the opcode plus its immediates. */
export function instructionLength(code: number): number {
  return 1 + (instructionByCode(code)?.immediates ?? 0);
}

/** Ends every switch over a union so that a missing case does not compile. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`internal: unhandled ${what}: ${String(value)}`);
}
