// What a heavy instruction costs in gas before it runs: the table's gas, plus the
// size of the page it allocates or copies (data words or key slots, `gasFor`), plus
// one per meter of the running domain's chain for instructions that settle it, plus
// a SEVER's walk over the store at the version limit.
import { type DomainSlot, type KeyPage, ObjectKind, type Store } from '@keyvm/core';
import { gasFor, INSTRUCTIONS, Op, operandPositions } from '@keyvm/isa';

// Where the operands the size gas looks at sit (from the table's operands column):
// CREATEPAGE's page type, PAGESIZESET's page slot; the size is the top of the stack.
const CREATEPAGE = operandPositions(INSTRUCTIONS[Op.CREATEPAGE]);
const PAGESIZESET = operandPositions(INSTRUCTIONS[Op.PAGESIZESET]);

/**
 * 1 for instructions that settle the running domain's borrow and borrow again,
 * walking its meter chain (up to LIMITS.maxMeterDepth meters) twice or more.
 */
const SETTLES: Uint8Array = (() => {
  const a = new Uint8Array(INSTRUCTIONS.length);
  for (const op of [Op.METERREAD, Op.METERSET, Op.CREATEMETER, Op.ATTENUATE, Op.SEVER]) a[op] = 1;
  return a;
})();

/** Whether slot `slot` of `domain` holds a live key to a key page (for PAGESIZESET's size gas). */
function isKeyPageSlot(store: Store, domain: KeyPage, slot: number | undefined): boolean {
  if (slot === undefined || !Number.isInteger(slot) || slot < 0 || slot >= domain.slots.length) return false;
  if (slot === (4 satisfies typeof DomainSlot.IP) || slot === (6 satisfies typeof DomainSlot.POINTER))
    return false;
  return store.deref(domain.slots[slot]!)?.kind === ObjectKind.keyPage;
}

/** What SEVER through slot `slot` of `domain` walks besides its O(1) work (`Store.severWalk`). */
function severWalk(store: Store, domain: KeyPage, slot: number | undefined): number {
  if (slot === undefined || !Number.isInteger(slot) || slot < 0 || slot >= domain.slots.length) return 0;
  return store.severWalk(domain.slots[slot]!);
}

/**
 * Gas of heavy instruction `op` for the running domain `domain` (null between
 * domains), whose stack holds `sp` words, on a meter `depth` below its prime meter.
 * Without its operands an instruction costs the table's gas (it will fault
 * stack-underflow). Reads only; never throws.
 */
export function heavyCost(
  store: Store,
  domain: KeyPage | null,
  stack: Int32Array,
  sp: number,
  op: number,
  depth: number,
): number {
  const row = INSTRUCTIONS[op]!;
  let cost = row.gas;
  if (row.sizeGas && sp >= row.pops) {
    const base = sp - row.pops; // where the first operand sits
    const top = stack[sp - 1];
    const keys =
      op === Op.CREATEPAGE
        ? stack[base + CREATEPAGE.type] === 1
        : domain !== null && isKeyPageSlot(store, domain, stack[base + PAGESIZESET.slot]);
    cost = gasFor(row, top, keys);
  }
  if (SETTLES[op] === 1) cost += depth;
  // SEVER at the u32 version limit walks every key in the store once: 1 gas a key.
  if (op === Op.SEVER && domain !== null && sp >= 1) cost += severWalk(store, domain, stack[sp - 1]);
  return cost;
}
