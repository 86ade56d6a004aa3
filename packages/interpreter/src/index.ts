// Public API of @keyvm/interpreter: the machine, its results, devices and evaluate.
export { DEVICE_TABLE, type DeviceHost, DeviceOp, DeviceType } from './devices.js';
export { type Evaluation, evaluate } from './evaluate.js';
export {
  type BootOptions,
  BootSlot,
  DEFAULTS,
  type DomainView,
  Machine,
  MachineError,
  type MachineOptions,
  type Program,
} from './machine.js';
export type { FaultInfo, RunOptions, RunResult, RunStatus, StepHook, StepInfo } from './types.js';
