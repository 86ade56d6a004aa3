// `keyvm ops`: the opcode reference, read from the ISA table (no second list).
import { closestMatch } from '@keyvm/assembler';
import { FAULT_TABLE } from '@keyvm/core';
import { BootSlot, DEVICE_TABLE } from '@keyvm/interpreter';
import { INSTRUCTIONS, instructionByName, SIZE_GAS } from '@keyvm/isa';
import { ExitCode, usageError } from './errors.js';
import { writeStream } from './io.js';

export interface OpsFlags {
  json?: boolean;
}

export async function opsCommand(names: readonly string[], flags: OpsFlags): Promise<ExitCode> {
  const rows = names.length === 0 ? [...INSTRUCTIONS] : names.map(findRow);
  if (flags.json) {
    const json = rows.map((r) => ({
      code: r.code,
      name: r.name,
      immediates: r.immediates,
      effect: r.effect,
      pops: r.pops,
      pushes: r.pushes,
      operands: r.operands,
      gas: r.gas,
      sizeGas: r.sizeGas,
      family: r.family,
      keyvm: r.keyvm,
      doc: r.doc,
    }));
    await writeStream(process.stdout, `${JSON.stringify(json, null, 2)}\n`);
    return ExitCode.ok;
  }
  const width = {
    name: Math.max(4, ...rows.map((r) => r.name.length + (r.immediates > 0 ? 2 : 0))),
    effect: Math.max(6, ...rows.map((r) => r.effect.length)),
  };
  const lines = [
    `CODE  ${'NAME'.padEnd(width.name)}  ${'EFFECT'.padEnd(width.effect)}  GAS  DOC`,
    ...rows.map((r) => {
      const name = r.immediates > 0 ? `${r.name} n` : r.name;
      const gas = `${r.gas}${r.sizeGas ? '+' : ''}`;
      return `${String(r.code).padStart(4)}  ${name.padEnd(width.name)}  ${r.effect.padEnd(width.effect)}  ${gas.padStart(3)}  ${r.doc}`;
    }),
  ];
  if (names.length === 0) {
    const slots: Readonly<Record<string, number>> = BootSlot;
    lines.push('', 'Devices (DEVICE slot op arg -- result; the root domain holds them in the slot shown):');
    for (const d of DEVICE_TABLE) lines.push(`  ${d.name.padEnd(8)} slot ${slots[d.name] ?? '-'}  ${d.ops}`);
    lines.push('', 'Faults (the number a keeper receives):');
    for (const f of FAULT_TABLE) lines.push(`  ${String(f.code).padStart(2)} ${f.name.padEnd(17)} ${f.doc}`);
  }
  if (names.length === 0)
    lines.push(
      '',
      `${rows.length} instructions; codes 0-20 are the original KeyVM's. Stack effects: a b -- c pops b (the top), then a.`,
      `GAS n+ also charges for the size on top of the stack: 1 more per ${SIZE_GAS.wordsPerGas} words beyond ${SIZE_GAS.free}.`,
    );
  await writeStream(process.stdout, `${lines.join('\n')}\n`);
  return ExitCode.ok;
}

function findRow(name: string): (typeof INSTRUCTIONS)[number] {
  const byName = instructionByName(name.toUpperCase());
  if (byName) return byName as (typeof INSTRUCTIONS)[number];
  const code = /^\d+$/.test(name) ? INSTRUCTIONS[Number(name)] : undefined;
  if (code) return code;
  const guess = closestMatch(
    name,
    INSTRUCTIONS.map((r) => r.name),
  );
  const hint = guess === undefined ? '' : `; did you mean '${guess}'?`;
  throw usageError(`ops: no instruction named '${name}'${hint}`);
}
