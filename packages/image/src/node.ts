// Public API of @keyvm/image/node: what needs Node: crash-safe image files, gzip
// compression of image files, and the temporary-file clean-up for signal handlers.
export {
  compressImage,
  decompressImage,
  GZIP_MAGIC,
  isCompressedImage,
  MAX_UNPACKED_BYTES,
} from './compress.js';
export {
  loadImageFile,
  removeTemporaryFiles,
  type SaveOptions,
  saveImageFile,
  TemporaryFileError,
  writeFileAtomic,
} from './file.js';
