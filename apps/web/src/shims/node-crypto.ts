// TEMPORARY stand-in for node:crypto in the browser build (see vite.config.ts): the
// sha256 @keyvm/image hashes images with, from @noble/hashes.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export function createHash(algorithm: string) {
  if (algorithm !== 'sha256') throw new Error(`only sha256 is available in the browser, not ${algorithm}`);
  const h = sha256.create();
  const api = {
    update(bytes: Uint8Array) {
      h.update(bytes);
      return api;
    },
    digest(encoding: string) {
      if (encoding !== 'hex')
        throw new Error(`only hex digests are available in the browser, not ${encoding}`);
      return bytesToHex(h.digest());
    },
  };
  return api;
}

export function randomBytes(): never {
  throw new Error('node:crypto randomBytes is not available in the browser');
}
