// The pipeline: lex and parse the main file and its imports, check, generate
// assembly, assemble it, and compose the assembler's source map (code offset ->
// assembly line) with the generator's (assembly line -> source span, function).
import { AssemblyError, assemble, type Program, type SourceMapEntry } from '@keyvm/assembler';
import type { Module } from './ast.js';
import { check } from './checker.js';
import { type AsmLine, generate } from './codegen.js';
import { CompileError, Sink } from './diagnostics.js';
import { tokenize } from './lexer.js';
import { parse } from './parser.js';

export interface CompileOptions {
  /** The file name used in diagnostics and the source map. */
  readonly file?: string;
  /**
   * Finds the source of `import "path"` written in file `from`: its text and the
   * name to report it under, or undefined when there is none. Without it, imports
   * are errors (the compiler itself touches no file system).
   */
  readonly resolve?: (
    path: string,
    from: string,
  ) => { readonly file: string; readonly source: string } | undefined;
}

/** Where the instruction at `pc` came from. */
export interface SourceLocation {
  readonly pc: number;
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** `main`, a function name, `Domain.function`, or the domain's dispatch code `Domain`. */
  readonly function: string;
}

export interface CompileResult {
  /** Code words with the source map in terms of the main source file (what a .kvm file holds). */
  readonly program: Program;
  /** The generated assembly, annotated with the source lines it came from. */
  readonly assembly: string;
  /** One entry per instruction start, by pc. */
  readonly sourceMap: readonly SourceLocation[];
}

/** Most imported files one compile reads. */
export const MAX_IMPORTS = 64;

/** Compiles a source file; throws CompileError with every problem found. */
export function compile(source: string, options: CompileOptions = {}): CompileResult {
  const file = options.file ?? '<input>';
  const sink = new Sink(file, source);
  const sources = new Map<string, string>([[file, source]]);
  const modules: Module[] = [parse(tokenize(source, sink), sink, file)];
  // Imports, breadth first; each file once.
  for (let i = 0; i < modules.length; i++) {
    const m = modules[i]!;
    for (const item of m.items) {
      if (
        i > 0 &&
        item.kind !== 'def' &&
        item.kind !== 'typ' &&
        item.kind !== 'domain' &&
        item.kind !== 'import'
      ) {
        const constant = item.kind === 'var' && item.constant;
        if (!constant)
          sink.report(
            'misplaced',
            'an imported file holds only declarations (def, typ, domain, const, import)',
            item.at,
          );
        continue;
      }
      if (item.kind !== 'import') continue;
      const found = options.resolve?.(item.path, m.file);
      if (found === undefined) {
        sink.report('bad-import', `cannot find '${item.path}' to import`, item.at);
        continue;
      }
      if (sources.has(found.file)) continue;
      if (sources.size > MAX_IMPORTS) {
        sink.report('bad-import', `more than ${MAX_IMPORTS} files imported`, item.at);
        continue;
      }
      sources.set(found.file, found.source);
      sink.addFile(found.file, found.source);
      modules.push(parse(tokenize(found.source, sink, found.file), sink, found.file));
    }
  }
  // Constants of imported files are declarations too: the checker sees them with the main file's.
  const merged: Module[] = modules.map((m, i) =>
    i === 0
      ? m
      : {
          file: m.file,
          items: m.items.filter((x) => x.kind !== 'import' && (x.kind !== 'var' || x.constant)),
        },
  );
  // Checked even after syntax errors (what failed to parse is left out), so that one
  // compile reports every error it can.
  const checked = check(merged, sink);
  if (sink.count > 0) throw sink.error();
  const lines = generate(checked);
  const text = lines.map((l) => l.text).join('\n');
  let program: Program;
  try {
    program = assemble(text, { file });
  } catch (e) {
    if (!(e instanceof AssemblyError)) throw e;
    const page = e.diagnostics.find((d) => d.code === 'page-overflow');
    if (page === undefined) throw e; // a bug in the generator: never swallowed
    sink.report('limit', 'the program is too large for one code page (2^24 words)', { line: 1, col: 1 });
    throw sink.error();
  }
  const sourceMap: SourceLocation[] = [];
  const plain: SourceMapEntry[] = [];
  for (const entry of program.sourceMap) {
    const line = lines[entry.line - 1];
    const at = line?.at;
    const loc: SourceLocation = {
      pc: entry.pc,
      file: at?.file ?? file,
      line: at?.line ?? 1,
      col: at?.col ?? 1,
      function: line?.fn ?? 'main',
    };
    sourceMap.push(loc);
    // The .kvm source map names one file: instructions from imports point at line 1 of it.
    plain.push({
      pc: entry.pc,
      line: loc.file === file ? loc.line : 1,
      col: loc.file === file ? loc.col : 1,
    });
  }
  const keep = /^(f_|d_|rt_|str)/;
  const result: Program = {
    code: program.code,
    data: program.data,
    labels: program.labels.filter((l) => keep.test(l.name)),
    sourceMap: plain,
    source: file,
  };
  return { program: result, assembly: annotate(lines, sources, file), sourceMap };
}

/** The assembly text with each run of lines from one source line headed by that line, as a comment. */
function annotate(lines: readonly AsmLine[], sources: ReadonlyMap<string, string>, main: string): string {
  const split = new Map<string, string[]>();
  for (const [f, s] of sources) split.set(f, s.split('\n'));
  const out: string[] = [];
  let last = '';
  let fn = '';
  for (const l of lines) {
    if (l.fn !== fn) {
      fn = l.fn;
      out.push('', `; ---- ${fn} ----`);
    }
    if (l.at !== undefined) {
      const f = l.at.file ?? main;
      const key = `${f}:${l.at.line}`;
      if (key !== last) {
        last = key;
        const text = (split.get(f)?.[l.at.line - 1] ?? '').trim().replace(/\r$/, '');
        out.push(`; ${f}:${l.at.line}: ${text.length > 100 ? `${text.slice(0, 100)}…` : text}`);
      }
    }
    out.push(l.text.endsWith(':') ? l.text : `        ${l.text}`);
  }
  return `${out.join('\n').trimStart()}\n`;
}

export { CompileError };
