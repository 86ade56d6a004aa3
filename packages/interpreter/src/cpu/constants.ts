// The interpreter's constants and small pure helpers, shared by the CPU's layers
// (cpu/*.ts, cpu.ts) and the heavy handlers (ops/*): a leaf module, so no value import cycle.
import {
  type DomainSlot,
  type DomainState,
  GuestFault,
  type KeyKind,
  type KeyPage,
  numberKey,
} from '@keyvm/core';
import { INSTRUCTIONS, Op } from '@keyvm/isa';

/** Gas per opcode, from the ISA table. */
const GAS = Int32Array.from(INSTRUCTIONS, (r) => r.gas);
export const N_OPS = INSTRUCTIONS.length;

/** The fault of a jump taken to `target`, outside a code page of `size` words. */
export const badJump = (name: string, target: number, size: number): GuestFault =>
  new GuestFault('bad-jump', `${name} to ${target}, outside the code (0 to ${size}, its end)`);

/** Instructions the dispatch loop executes inline; each must cost exactly 1 gas. */
export const INLINE_OPS: readonly number[] = [
  Op.PUSH,
  Op.ADD,
  Op.SUB,
  Op.MUL,
  Op.DIV,
  Op.MOD,
  Op.AND,
  Op.OR,
  Op.XOR,
  Op.NOT,
  Op.JUMP,
  Op.JUMPIF,
  Op.NOP,
  Op.DUP,
  Op.DROP,
  Op.SWAP,
  Op.OVER,
  Op.EQ,
  Op.NE,
  Op.LT,
  Op.LE,
  Op.GT,
  Op.GE,
  Op.ISZERO,
  Op.NEG,
  Op.SHL,
  Op.SHR,
  Op.SHRU,
  Op.PICK,
  Op.PUT,
];
for (const op of INLINE_OPS) {
  if (GAS[op] !== 1) throw new Error(`internal: instruction ${INSTRUCTIONS[op]!.name} must cost 1 gas`);
}
/**
 * Instructions that pass control to another domain and that the loop follows
 * without leaving, while the next domain runs on the same borrow. They cost the
 * same gas, TRANSFER_GAS (a transfer may settle one meter chain and borrow from
 * another, walking both): the loop's fuel, which pays one gas and at most one step
 * a unit, pays for one with TRANSFER_GAS units, and counts the units past the
 * first back as steps not taken (`TRANSFER_EXTRA`).
 */
export const TRANSFER_OPS: readonly number[] = [Op.CALL, Op.CALLW, Op.RETURN];
export const TRANSFER_GAS = GAS[Op.CALL]!;
for (const op of TRANSFER_OPS) {
  if (GAS[op] !== TRANSFER_GAS || TRANSFER_GAS < 1)
    throw new Error(`internal: instruction ${INSTRUCTIONS[op]!.name} must cost what CALL does`);
}
/** Fuel units a transfer takes beyond the one every instruction takes. */
export const TRANSFER_EXTRA = TRANSFER_GAS - 1;
/**
 * Console output kept for a host that gives no writer, in UTF-16 code units. Output
 * is host side and no meter pays for it, so it is capped well below V8's longest
 * string: a guest with gas enough cannot make the host run out of memory or crash.
 */
export const OUTPUT_LIMIT = 1 << 24;
/**
 * Most gas borrowed at a time (the default of `MachineOptions.borrowLimit`). A
 * borrow that stays a small integer keeps V8's arithmetic on the counters in
 * integers (as doubles they cost about 8% of a CALL + RETURN); a capped borrow
 * that runs out is borrowed again (`handleExhaustion`), so results never depend on it.
 */
export const BORROW_LIMIT = 2 ** 30;
export const EMPTY = new Int32Array(0);
/** `Cpu.#slowPath` result: go on with the loop. */
export const CONTINUE = -1;
/** The dispatch loop's counter stays a small integer: work is done in chunks of at most this. */
export const CHUNK = 1 << 30;
/** While a code page is not compiled yet, the loop looks again this often to count its warm-up. */
export const WARM_CHUNK = 1024;
/** Instructions the loop may run before it must look again: bounded by gas, steps and the chunk. */
export const fuelFor = (gas: number, steps: number, chunk: number): number => Math.min(gas, steps, chunk);

/** What the dispatch loop reloads from the fields after a case that went through them. */
export const Reload = Object.freeze({ none: 0, registers: 1, all: 2 } as const);
export type Reload = (typeof Reload)[keyof typeof Reload];

/** What `CpuTransfers.followTransfers` did: nothing, transfers all on the same borrow, or some that borrowed anew. */
export const Moved = Object.freeze({ no: 0, sameBorrow: 1, newBorrow: 2 } as const);
export type Moved = (typeof Moved)[keyof typeof Moved];

/** Why the dispatch loop stopped. */
export const Stop = Object.freeze({
  /** The step allowance (time slice or maxSteps) is used up. */
  steps: 0,
  /** The borrowed gas cannot pay for the next instruction. */
  gas: 1,
  /** The instruction faulted; `pendingFault` says how. */
  fault: 2,
  /** The running domain left (call, return, halt, yield, block); pick the next one. */
  switched: 3,
  /** The instruction pointer left the code: the domain halts. */
  offEnd: 4,
} as const);
export type Stop = (typeof Stop)[keyof typeof Stop];

/** What a heavy handler tells the loop. */
export const Next = Object.freeze({ continue: 0, switched: 1 } as const);
export type Next = (typeof Next)[keyof typeof Next];

export const numberSlot = (page: KeyPage, slot: number): number => {
  const k = page.slots[slot]!;
  return k.kind === (1 satisfies typeof KeyKind.number) ? k.value : 0;
};

/** Most operands a heavy instruction takes (ATTENUATE's five). */
export const MAX_OPERANDS = Math.max(...INSTRUCTIONS.map((r) => r.pops));

/** Number keys for the domain states the one-step transfers write. */
export const AVAILABLE = numberKey(0 satisfies typeof DomainState.available);
export const RUNNING = numberKey(1 satisfies typeof DomainState.running);
export const WAITING = numberKey(2 satisfies typeof DomainState.waiting);
export const WAITING_WORD = numberKey(6 satisfies typeof DomainState.waitingWord);

/** A slot operand of a one-step transfer: in the page and not IP or POINTER (those read the registers). */
export const isPlainSlot = (slot: number, size: number): boolean =>
  slot >= 0 &&
  slot < size &&
  slot !== (4 satisfies typeof DomainSlot.IP) &&
  slot !== (6 satisfies typeof DomainSlot.POINTER);
