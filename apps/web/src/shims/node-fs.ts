// TEMPORARY stand-in for node:fs and node:fs/promises in the browser build (see
// vite.config.ts): @keyvm/image's file helpers, which the playground never calls.
const unavailable = (): never => {
  throw new Error('files are not available in the browser');
};
export const unlinkSync = unavailable;
export const open = unavailable;
export const readFile = unavailable;
export const rename = unavailable;
export const stat = unavailable;
export const unlink = unavailable;
export const writeFile = unavailable;
export const mkdir = unavailable;
export const access = unavailable;
export const realpath = unavailable;
export const constants = {};
export const lstat = unavailable;
export const fsync = unavailable;
export const readdir = unavailable;
export const rm = unavailable;
export default {};
