// Public API of @keyvm/isa: the instruction table and look-ups over it.

export { DEVICES, type DeviceInfo, type DeviceOperation } from './devices.js';
export { renderIsaMarkdown } from './doc.js';
export {
  assertNever,
  instructionByCode,
  instructionByName,
  instructionLength,
  isOpcode,
  OPCODE_COUNT,
} from './lookup.js';
export {
  type Family,
  gasFor,
  INSTRUCTIONS,
  type InstructionInfo,
  type InstructionRow,
  type Mnemonic,
  OPERAND_KINDS,
  Op,
  type Opcode,
  type Operand,
  type OperandKind,
  operandPositions,
  SIZE_GAS,
} from './table.js';
