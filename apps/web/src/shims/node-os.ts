// TEMPORARY stand-in for node:os in the browser build (see vite.config.ts).
export function endianness(): 'LE' | 'BE' {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 'LE' : 'BE';
}
