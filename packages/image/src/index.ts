// Public API of @keyvm/image: the whole machine as canonical bytes (and JSON),
// strict loading, crash-safe image files, and the Anoma encode/decode interface.
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
  imageHash,
} from './binary.js';
export {
  compressImage,
  decompressImage,
  GZIP_MAGIC,
  isCompressedImage,
  MAX_UNPACKED_BYTES,
} from './compress.js';
export {
  IMAGE_ERROR_CODES,
  IMAGE_ERROR_TABLE,
  ImageError,
  type ImageErrorCode,
  type ImageSection,
} from './errors.js';
export {
  loadImageFile,
  removeTemporaryFiles,
  type SaveOptions,
  saveImageFile,
  TemporaryFileError,
  writeFileAtomic,
} from './file.js';
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
