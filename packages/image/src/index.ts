// Public API of @keyvm/image: the whole machine as canonical bytes (and JSON), strict
// loading and the Anoma encode/decode interface, on any platform. Files: ./node.ts.
export {
  type DataValue,
  decodeValue,
  encodeValue,
  type ForeignFunction,
  type FunctionV,
  KEYVM_VM_NUMBER,
  MAX_VALUE_NODES,
  type Program,
  type VmValue,
} from './anoma.js';
export {
  type DecodeOptions,
  decodeImage,
  encodeImage,
  IMAGE_FORMAT_VERSION,
  IMAGE_MAGIC,
  type ImageHeader,
  imageHash,
  readImageHeader,
} from './binary.js';
export {
  attachDebugInfo,
  DEBUG_FORMAT_OLDEST,
  DEBUG_FORMAT_VERSION,
  DEBUG_MAGIC,
  type DebugDomain,
  type DebugFile,
  type DebugLabel,
  type DebugProgram,
  type DebugSourcePosition,
  encodeDebugSection,
  type ImageDebugInfo,
  imageDebugInfo,
  MAX_DEBUG_BYTES,
  splitImage,
  stateLength,
} from './debug.js';
export {
  bootDebugInfo,
  type DebugSource,
  DomainRecorder,
  domainLabel,
  domainNamer,
  type FaultSource,
  isLanguageDebug,
  liveDebugInfo,
  locateFault,
  MAX_KEPT_SOURCE,
  programOfDomain,
  sourceAt,
  withDebugInfo,
} from './debug-names.js';
export {
  IMAGE_ERROR_CODES,
  IMAGE_ERROR_TABLE,
  ImageError,
  type ImageErrorCode,
  type ImageSection,
  type Where,
} from './errors.js';
export {
  type DataPageJson,
  type DeviceJson,
  IMAGE_JSON_FORMAT,
  type ImageJson,
  imageFromJson,
  imageToJson,
  type KeyJson,
  type KeyKindName,
  type KeyPageJson,
  type MeterJson,
  type ObjectJson,
  type ResourceName,
} from './json.js';
export {
  checkLimit,
  DEFAULT_IMAGE_LIMITS,
  type ImageLimits,
  resolveImageLimits,
} from './limits.js';
export { IMAGE_LIMITS } from './validate.js';
