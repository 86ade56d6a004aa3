// `keyvm asm` (assembly to a .kvm program) and `keyvm disasm` (a .kvm program, an
// image's code pages, or assembly, back to flat assembly text).
import { basename, extname } from 'node:path';
import { disassembleChunks, encodeProgram, type Program } from '@keyvm/assembler';
import { DomainSlot, ObjectKind } from '@keyvm/core';
import { Machine, type MachineApi } from '@keyvm/interpreter';
import { boundedItems } from './bounded.js';
import { ExitCode, usageError } from './errors.js';
import { loadInput, loadInputOf, writeOutput } from './io.js';
import { writeOutputPieces } from './stream-out.js';

export interface AsmFlags {
  output?: string;
  strip?: boolean;
}

/** The default output: FILE with its extension replaced by .kvm, in the current directory's terms. */
function defaultOutput(file: string): string {
  if (file === '-') {
    if (process.stdout.isTTY) throw usageError('asm: reading stdin needs -o OUT (use -o - for stdout)');
    return '-';
  }
  const ext = extname(file);
  const base = ext === '' ? file : file.slice(0, -ext.length);
  if (ext === '.kvm') throw usageError(`asm: ${basename(file)} would overwrite itself; give -o OUT`);
  return `${base}.kvm`;
}

export async function asmCommand(file: string, flags: AsmFlags): Promise<ExitCode> {
  const out = flags.output ?? defaultOutput(file);
  const input = await loadInputOf(file, ['source', 'kvm']);
  const program: Program = flags.strip
    ? { code: input.program.code, data: input.program.data, labels: [], sourceMap: [] }
    : input.program;
  await writeOutput(out, encodeProgram(program));
  return ExitCode.ok;
}

export interface DisasmFlags {
  output?: string;
}

export async function disasmCommand(file: string, flags: DisasmFlags): Promise<ExitCode> {
  const input = await loadInput(file);
  // Made and written a piece at a time: code pages of millions of words never become one string.
  const pieces =
    input.kind === 'image'
      ? disassembleImage(new Machine(input.store))
      : disassembleChunks(input.program.code, {
          labels: input.program.labels,
          sourceMap: input.program.sourceMap,
          data: input.program.data,
        });
  await writeOutputPieces(flags.output ?? '-', pieces);
  return ExitCode.ok;
}

/** Every code page of an image, once, headed by the domains that run it. */
function* disassembleImage(machine: MachineApi): Generator<string> {
  const store = machine.store;
  const users = new Map<number, string[]>();
  for (const d of machine.domains()) {
    const code = store.deref(d.slots[DomainSlot.CODE]!);
    if (code?.kind !== ObjectKind.dataPage) continue;
    const root = d.id === machine.rootDomain ? ', root' : '';
    const list = users.get(code.id) ?? [];
    list.push(`#${d.id} (${d.stateName}${root}, ip ${d.ip})`);
    users.set(code.id, list);
  }
  let pages = 0;
  for (const [id, domains] of [...users].sort((a, b) => a[0] - b[0])) {
    const page = store.object(id);
    if (page?.kind !== ObjectKind.dataPage) continue;
    // The domains sharing a page: the first and last few, and how many more.
    const shown = [
      ...boundedItems(
        domains,
        (d) => d,
        (n) => `… ${n.toLocaleString('en-US')} more`,
      ),
    ];
    yield `${pages++ > 0 ? '\n' : ''}; code page #${id}, ${page.size} words, run by domain ${shown.join(', ')}\n`;
    yield* disassembleChunks(page.words);
  }
  if (pages === 0) yield '; no domain in this image has a code page\n';
}
