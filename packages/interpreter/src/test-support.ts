// Test support: build code words from mnemonics and numbers, so interpreter tests
// do not depend on the assembler package. Not exported from index.ts.
import { instructionByName } from '@keyvm/isa';

/** `code('PUSH', 5, 'PUSH', 3, 'SUB')` → the code words; a number after a non-PUSH is a raw word. */
export function code(...items: (string | number)[]): Int32Array {
  const out: number[] = [];
  for (const item of items) {
    if (typeof item === 'number') {
      out.push(item | 0);
      continue;
    }
    const row = instructionByName(item);
    if (!row) throw new Error(`unknown mnemonic ${item}`);
    out.push(row.code);
  }
  return Int32Array.from(out);
}

/** Tree-style helper: `op('SUB', 5, 3)` pushes the numbers then the op. */
export function op(name: string, ...args: number[]): (string | number)[] {
  return [...args.flatMap((a) => ['PUSH', a]), name];
}
