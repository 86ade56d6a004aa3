// TEMPORARY stand-in for node:zlib in the browser build (see vite.config.ts): the
// CRC-32 the image checksum uses; gzip is done by the browser's DecompressionStream.
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, start = 0): number {
  let c = ~start >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const unavailable = (): never => {
  throw new Error('node:zlib gzip is not available in the browser');
};
export const gzipSync = unavailable;
export const gunzipSync = unavailable;
export const constants = {};
