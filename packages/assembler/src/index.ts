// Public API of @keyvm/assembler: assemble text to a Program, disassemble code
// words back to text, and read and write the binary .kvm program file.
export { type AssembleOptions, assemble, MAX_ZERO_WORDS } from './assemble.js';
export {
  ASSEMBLY_ERROR_CODES,
  AssemblyError,
  type AssemblyErrorCode,
  type Diagnostic,
  escapeText,
  excerpt as excerptLine,
  formatDiagnostic,
  MAX_SHOWN_DIAGNOSTICS,
  shownName,
} from './diagnostics.js';
export {
  type DisassembledInstruction,
  type DisassembleOptions,
  disassemble,
  disassembleChunks,
  disassembleInstruction,
  disassembleProgram,
} from './disassemble.js';
export {
  type IncludedFile,
  type IncludeReader,
  MAX_EXPANDED_TOKENS,
  MAX_INCLUDE_DEPTH,
  MAX_INCLUDED_FILES,
  MAX_MACRO_DEPTH,
  PREPROCESSOR_DIRECTIVES,
} from './expand.js';
export {
  decodeProgram,
  encodeProgram,
  KVM_FORMAT_ERROR_CODES,
  KVM_FORMAT_VERSION,
  KVM_MAGIC,
  KvmFormatError,
  type KvmFormatErrorCode,
} from './kvm-format.js';
export { WORD_MAX, WORD_MIN } from './numbers.js';
export { DIRECTIVES, type DirectiveName, MAX_NESTING } from './parser.js';
export { PREDEFINED, PREDEFINED_NAMES, type PredefinedName } from './predefined.js';
export {
  type Label,
  type LabelSection,
  MAX_PAGE_WORDS,
  type Program,
  type SourceFile,
  type SourceMapEntry,
} from './program.js';
export { closestMatch } from './suggest.js';
