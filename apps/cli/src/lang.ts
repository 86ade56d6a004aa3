// The KeyVM language in the CLI: `.kl` sources compile (with imports read beside
// them) wherever assembly is accepted, and `keyvm build` writes a .kvm program or,
// with --emit asm, the generated assembly annotated with the source lines.
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { encodeProgram, type Program } from '@keyvm/assembler';
import {
  CompileError,
  type CompileResult,
  compile,
  MAX_SOURCE_LENGTH,
  SOURCE_EXTENSION,
} from '@keyvm/compiler';
import type { FaultSource } from '@keyvm/image';
import { ExitCode, malformed, usageError } from './errors.js';
import { displayName, readText, writeOutput } from './io.js';

/** True for a file name that the language compiler reads. */
export const isLanguageSource = (path: string): boolean => extname(path) === SOURCE_EXTENSION;

/** Compile language source `text` read from `path`; diagnostics are malformed input (exit 4). */
export function compileLanguage(text: string, path: string): CompileResult {
  const name = displayName(path);
  const base = path === '-' ? process.cwd() : dirname(resolve(path));
  const dirs = new Map<string, string>([[name, base]]);
  try {
    return compile(text, {
      file: name,
      // An import of lib reads lib.kl beside the importing file (size-bounded, UTF-8).
      resolve: (importPath, from) => {
        const file = join(
          dirs.get(from) ?? base,
          extname(importPath) === '' ? `${importPath}${SOURCE_EXTENSION}` : importPath,
        );
        try {
          if (statSync(file).size > MAX_SOURCE_LENGTH) return undefined;
          const source = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file));
          const shown = displayName(file);
          dirs.set(shown, dirname(file));
          return { file: shown, source };
        } catch {
          return undefined;
        }
      },
    });
  } catch (e) {
    if (e instanceof CompileError) throw malformed(e.format(), e);
    throw e;
  }
}

export interface BuildFlags {
  output?: string;
  emit?: string;
}

/** `keyvm build FILE.kl [-o OUT] [--emit kvm|asm]` */
export async function buildCommand(file: string, flags: BuildFlags): Promise<ExitCode> {
  const emit = flags.emit ?? 'kvm';
  if (emit !== 'kvm' && emit !== 'asm') throw usageError(`build: --emit takes kvm or asm, not '${emit}'`);
  if (file !== '-' && !isLanguageSource(file))
    throw usageError(
      `build: ${basename(file)} is not a ${SOURCE_EXTENSION} source (assemble .ism/.kasm with keyvm asm)`,
    );
  const result = compileLanguage(await readText(file, 'build'), file);
  if (emit === 'asm') {
    await writeOutput(flags.output ?? '-', result.assembly);
    return ExitCode.ok;
  }
  let out = flags.output;
  if (out === undefined) {
    if (file === '-') throw usageError('build: reading stdin needs -o OUT (use -o - for stdout)');
    out = `${file.slice(0, -extname(file).length)}.kvm`;
  }
  await writeOutput(out, encodeProgram(result.program));
  return ExitCode.ok;
}

/** True for a program compiled from a language source (its source map names a `.kl` file). */
export const isLanguageProgram = (program: Program): boolean =>
  program.source !== undefined && isLanguageSource(program.source);

/** The language function (`half`, `Domain.fn`) a code offset of a compiled program is in, from its labels. */
export function functionAt(program: Pick<Program, 'labels'>, pc: number): string | undefined {
  let fn: string | undefined;
  for (const l of program.labels) {
    if (l.section !== 'code' || l.address > pc) continue;
    const m = /^(?:f_(.+)|d_(.+?)_(?!init$|dispatch$|m\d+$|r\d+$|kret$)(.+))$/.exec(l.name);
    if (m !== null) fn = m[1] ?? `${m[2]}.${m[3]}`;
  }
  return fn;
}

/** A fault's source position with the function it is in as its label (none at top level). */
export function withFunctionName(
  where: FaultSource,
  program: Pick<Program, 'labels'>,
  pc: number,
): FaultSource {
  const { label: _, ...rest } = where;
  const fn = functionAt(program, pc);
  return fn === undefined ? rest : { ...rest, label: fn };
}
