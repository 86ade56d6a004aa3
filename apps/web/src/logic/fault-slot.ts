// The slot a fault is about, derived in the page (the interpreter's fault record has
// none): the faulting instruction's slot operands, read off the stack by the ISA table's
// stack effect (a faulting instruction changes nothing, so its operands are still there).
import { DomainSlot } from '@keyvm/core';
import { INSTRUCTIONS } from '@keyvm/isa';

/** Stack-effect operand names that are slots (of the domain, or in a key page: didx, sidx). */
const SLOT_OPERANDS: ReadonlySet<string> = new Set([
  'slot',
  'dpage',
  'didx',
  'spage',
  'sidx',
  'dst',
  'src',
  'parent',
  'meter',
  'keeper',
  'resume',
  'key',
  'target',
  'msg',
]);

const SLOT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(DomainSlot).map(([name, slot]) => [slot, name]),
);

export interface SlotOperand {
  /** The operand's name in the stack effect (`slot`, `dpage`, `sidx`, …). */
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
  if (row !== undefined && row.pops > 0 && stack.length >= row.pops) {
    const names = row.effect.split('--')[0]!.trim().split(/\s+/);
    if (names.length === row.pops) {
      const args = stack.slice(stack.length - row.pops);
      names.forEach((operand, i) => {
        if (!SLOT_OPERANDS.has(operand)) return;
        const value = args[i]!;
        const special = operand === 'didx' || operand === 'sidx' ? undefined : SLOT_NAMES[value];
        operands.push(special === undefined ? { operand, value } : { operand, value, name: special });
      });
    }
  }
  const named = /\bslot (-?\d+)\b/.exec(message);
  const slot = named ? Number(named[1]) : operands.length === 1 ? operands[0]!.value : null;
  return { slot, operands };
}
