// The slot a fault is about, derived in the page (the interpreter's fault record has
// none): the faulting instruction's slot operands (the ISA table's operand kinds), read
// off the stack (a faulting instruction changes nothing, so its operands are still there).
import { DomainSlot } from '@keyvm/core';
import { INSTRUCTIONS } from '@keyvm/isa';

const SLOT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(DomainSlot).map(([name, slot]) => [slot, name]),
);

export interface SlotOperand {
  /** The operand's name in the stack effect (`slot`, `dpage`, `target`, …). */
  readonly operand: string;
  readonly value: number;
  /** The domain slot's name (CODE, MEMORY, …) when it is one of the special slots. */
  readonly name?: string;
}

export interface FaultSlot {
  /** The slot the fault is about: the one its message names, else the only slot operand; null when unsure. */
  readonly slot: number | null;
  /** Every slot operand of the faulting instruction, in stack-effect order. */
  readonly operands: readonly SlotOperand[];
}

/**
 * The slots of a fault: `opcode` is the faulting instruction's, `stack` the faulted
 * domain's stack (top last), `message` the fault's message.
 */
export function faultSlot(opcode: number | undefined, stack: readonly number[], message: string): FaultSlot {
  const row = opcode === undefined ? undefined : INSTRUCTIONS[opcode];
  const operands: SlotOperand[] = [];
  if (row !== undefined && row.pops > 0 && stack.length >= row.pops && row.operands.length === row.pops) {
    const args = stack.slice(stack.length - row.pops);
    row.operands.forEach(({ name: operand, kind }, i) => {
      if (kind !== 'slot') return;
      const value = args[i]!;
      const special = SLOT_NAMES[value];
      operands.push(special === undefined ? { operand, value } : { operand, value, name: special });
    });
  }
  const named = /\bslot (-?\d+)\b/.exec(message);
  const slot = named ? Number(named[1]) : operands.length === 1 ? operands[0]!.value : null;
  return { slot, operands };
}
