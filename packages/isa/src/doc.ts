// Renders the instruction table as the Markdown reference in docs/isa.md.
import { DEVICES } from './devices.js';
import { INSTRUCTIONS, type InstructionInfo, OPERAND_KINDS, SIZE_GAS } from './table.js';

const escapeCell = (s: string): string => s.replaceAll('|', '\\|');

/** The operands column: each operand's kind, as `name:kind` where the name is not the kind. */
const operandsCell = (r: InstructionInfo): string =>
  r.operands.map((o) => (o.name === o.kind ? o.kind : `${o.name}:${o.kind}`)).join(' ');

/** The full ISA reference, generated from the table; docs/isa.md must equal it. */
export function renderIsaMarkdown(): string {
  const lines = [
    '# KeyVM instruction set',
    '',
    '<!-- Generated from packages/isa/src/table.ts by `pnpm gen:docs`. Do not edit by hand. -->',
    '',
    'Every instruction is one code word, followed by its immediate words (only PUSH has one).',
    'Gas is charged to the time meter before the instruction runs. Stack effects use Forth',
    'notation: `a b -- c` pops `b` (the top) and `a`, and pushes `c`; the first operand pushed',
    'is the first argument, so `sub(5,3)` leaves 2. A *slot* operand indexes the running',
    "domain's own key page. Words are 32-bit two's complement and arithmetic wraps.",
    'An instruction takes its operands off the stack (zeroed) before it touches any page, so',
    "one that reads or writes the domain's own stack page sees them gone; a faulting",
    'instruction still leaves the stack as it was.',
    '',
    'Codes 0 to 20 are the original KeyVM instructions (marked ✓), at its numbers and with its',
    'stack effects and operand order (PAGEWRITE is `word slot index`, as in KeyVM).',
    '',
    `Gas marked *+size* grows with the size operand (the words or slots allocated and copied):`,
    `a data page above ${SIZE_GAS.heapWords} words costs ${SIZE_GAS.allocation} more (the host allocates its words outside its heap,`,
    `which takes about as long for 17 words as for 1,024), and 1 more per ${SIZE_GAS.wordsPerGas} words beyond ${SIZE_GAS.free}; a key page`,
    `${SIZE_GAS.gasPerSlot} more per slot from the first, so a guest cannot make the host allocate and copy for`,
    'nothing. Instructions that settle the running',
    "domain's meter chain (METERREAD, METERSET, CREATEMETER, ATTENUATE, SEVER) also cost 1 per",
    'meter between it and its prime meter (its depth).',
    '',
    'The *operands* column gives the kind of each popped operand, first pushed first, as',
    '`name:kind` (just the kind where the name is the same); the kinds are listed after the table.',
    '',
    '| code | name | KeyVM | imm | pops | pushes | gas | effect | operands | meaning |',
    '| ---: | :--- | :---: | ---: | ---: | ---: | ---: | :--- | :--- | :--- |',
  ];
  for (const r of INSTRUCTIONS) {
    const operands = r.operands.length === 0 ? '' : `\`${operandsCell(r)}\``;
    lines.push(
      `| ${r.code} | ${r.name} | ${r.keyvm ? '✓' : ''} | ${r.immediates} | ${r.pops} | ${r.pushes} | ${r.gas}${r.sizeGas ? ' +size' : ''} | \`${escapeCell(r.effect)}\` | ${operands} | ${escapeCell(r.doc)} |`,
    );
  }
  lines.push('', '## Operand kinds', '', '| kind | meaning |', '| :--- | :--- |');
  for (const [kind, meaning] of Object.entries(OPERAND_KINDS))
    lines.push(`| \`${kind}\` | ${escapeCell(meaning)} |`);
  lines.push(
    '',
    '## Devices',
    '',
    '`DEVICE slot op arg -- result` reaches the device whose key is in `slot`; a booted root',
    'domain holds one key to each device in the slot below. An unknown `op` faults with',
    '`bad-argument`. The assembler predefines each slot as the device name (`CONSOLE`) and',
    'each operation as `DEVICE_OPERATION` (`CONSOLE_PUTCHAR`).',
    '',
    '| type | device | boot slot | op | name | arg | result | meaning |',
    '| ---: | :--- | ---: | ---: | :--- | :--- | :--- | :--- |',
  );
  for (const d of DEVICES) {
    for (const o of d.ops) {
      lines.push(
        `| ${d.type} | ${d.name} | ${d.bootSlot} | ${o.code} | \`${d.name.toUpperCase()}_${o.name.toUpperCase()}\` | ${escapeCell(o.arg)} | ${escapeCell(o.result)} | ${escapeCell(o.doc)} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
