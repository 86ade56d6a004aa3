// Public API of @keyvm/interpreter: the machine, its results, devices, evaluate and
// the (transparent) prove / verify of the Anoma provable-VM interface.
export { OUTPUT_LIMIT } from './cpu/constants.js';
export { DEVICE_TABLE, type DeviceHost, DeviceOp, DeviceType } from './devices.js';
export { EVALUATE_MEMORY, type EvaluateOptions, type Evaluation, evaluate } from './evaluate.js';
export { JIT_CACHE_WORDS } from './jit.js';
export {
  type BootOptions,
  BootSlot,
  DEFAULTS,
  type DomainView,
  Machine,
  MachineError,
  type MachineOptions,
  type PageView,
  type Program,
} from './machine.js';
export type { MachineApi } from './machine-api.js';
export {
  DEFAULT_MAX_PRIVATE_WORDS,
  DEFAULT_VERIFY_GAS,
  NoProofError,
  PROOF_SYSTEM,
  type Proof,
  prove,
  relationDigest,
  type VerifyOptions,
  verify,
} from './provable.js';
export type { FaultInfo, RunOptions, RunResult, RunStatus, StepHook, StepInfo } from './types.js';
