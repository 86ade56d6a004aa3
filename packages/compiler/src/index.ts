// Public API of @keyvm/compiler: compile KeyVM language source to a Program (the
// assembler's, so it runs, assembles into .kvm and disassembles like any other),
// with annotated assembly and a source map down to the instruction.
export type { Expr, Module, Stmt } from './ast.js';
export { BUILTINS, MAX_SLOTS, Slot } from './checker.js';
export { SPAWN_STACK_WORDS } from './codegen.js';
export {
  type CompileOptions,
  type CompileResult,
  compile,
  MAX_IMPORTS,
  type SourceLocation,
} from './compile.js';
export {
  COMPILE_ERROR_CODES,
  CompileError,
  type CompileErrorCode,
  type Diagnostic,
  formatCompileDiagnostic,
  MAX_DIAGNOSTICS,
  type Phase,
  type Span,
} from './diagnostics.js';
export { MAX_INDENT_LEVELS, MAX_SOURCE_LENGTH } from './lexer.js';
export { KEYWORDS, MAX_EXPR_DEPTH } from './parser.js';
export { KEY_TYPES, type Type, typeName } from './types.js';

/** The file extension of KeyVM language sources. */
export const SOURCE_EXTENSION = '.kl';
