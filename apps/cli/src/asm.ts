// `keyvm asm` (assembly to a .kvm program) and `keyvm disasm` (a .kvm program, an
// image's code pages, or assembly, back to flat assembly text).
import { basename, extname } from 'node:path';
import { disassembleChunks, encodeProgram, escapeText, type Program } from '@keyvm/assembler';
import { DomainSlot, ObjectKind } from '@keyvm/core';
import type { ImageDebugInfo } from '@keyvm/image';
import { Machine, type MachineApi } from '@keyvm/interpreter';
import { boundedItems } from './bounded.js';
import { ExitCode, usageError } from './errors.js';
import { loadInput, loadInputOf, writeOutput } from './io.js';
import { refuseBinaryToTerminal } from './preflight.js';
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
  if (out === '-') refuseBinaryToTerminal('a .kvm program', '-o');
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
      ? disassembleImage(new Machine(input.store), input.debug)
      : disassembleChunks(input.program.code, {
          labels: input.program.labels,
          sourceMap: input.program.sourceMap,
          data: input.program.data,
        });
  await writeOutputPieces(flags.output ?? '-', pieces);
  return ExitCode.ok;
}

/**
 * Every code page of an image, once, headed by the domains that run it; with the
 * labels, source positions and data page of the program the debug section gives for it.
 */
function* disassembleImage(machine: MachineApi, debug: ImageDebugInfo | undefined): Generator<string> {
  const store = machine.store;
  const debugByPage = new Map((debug?.programs ?? []).map((p) => [p.codePage, p]));
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
    const known = debugByPage.get(id);
    const dataPage = known === undefined ? undefined : store.object(known.dataPage);
    const options =
      known === undefined
        ? {}
        : {
            labels: known.labels,
            sourceMap: known.sourceMap,
            ...(dataPage?.kind === ObjectKind.dataPage ? { data: dataPage.words } : {}),
          };
    const from = known?.files[0]?.name ? ` (from ${escapeText(known.files[0].name)})` : '';
    // The domains sharing a page: the first and last few, and how many more.
    const shown = [
      ...boundedItems(
        domains,
        (d) => d,
        (n) => `… ${n.toLocaleString('en-US')} more`,
      ),
    ];
    yield `${pages++ > 0 ? '\n' : ''}; code page #${id}, ${page.size} words, run by domain ${shown.join(', ')}${from}\n`;
    yield* disassembleChunks(page.words, options);
  }
  if (pages === 0) yield '; no domain in this image has a code page\n';
}
