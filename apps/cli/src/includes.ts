// How the CLI lets the assembler read `.include`d files: relative to the including
// file (or the working directory for stdin), from disk, size-bounded (by --max-input too).
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { AssembleOptions } from '@keyvm/assembler';
import { currentMaxInput } from './input-limits.js';

/** The largest file `.include` reads (bytes). */
export const MAX_INCLUDE_BYTES = 16 * 1024 * 1024;
/** The most bytes all the included files of one assembly may add up to. */
export const MAX_TOTAL_INCLUDE_BYTES = 64 * 1024 * 1024;

/** Assembler options that read includes from disk for the source at `path` (`-`: stdin). */
export function includeReader(path: string): Pick<AssembleOptions, 'include'> {
  const home = path === '-' ? process.cwd() : dirname(path);
  let total = 0;
  return {
    include(name: string, from: string): { file: string; text: string } {
      // `from` is the including file's name as the assembler knows it: the path given,
      // or one this reader returned; the main file resolves from its directory.
      const base = from === '<stdin>' || from === path ? home : dirname(from);
      const resolved = isAbsolute(name) ? name : join(base, name);
      // Each file, and all of them together, within the fixed caps and --max-input.
      const fileCap = Math.min(MAX_INCLUDE_BYTES, currentMaxInput());
      const totalCap = Math.min(MAX_TOTAL_INCLUDE_BYTES, currentMaxInput());
      const bytes = readRegularFileCapped(resolved, fileCap);
      total += bytes.length;
      if (total > totalCap)
        throw new Error(`the included files add up to more than ${totalCap} bytes${capNote(totalCap)}`);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch (e) {
        if (e instanceof TypeError) throw new Error('not valid UTF-8 text');
        throw e;
      }
      const shown = isAbsolute(name) ? resolved : relative(process.cwd(), resolved) || resolved;
      return { file: shown, text };
    },
  };
}

/** Which cap a message names: --max-input when it is the smaller one. */
const capNote = (cap: number): string => (cap === currentMaxInput() ? ' (--max-input)' : '');

/**
 * At most `cap` bytes of a regular file: a device or pipe (/dev/zero, a FIFO) could be
 * read forever, and a file that grows while it is read is stopped at the cap.
 */
function readRegularFileCapped(path: string, cap: number): Uint8Array {
  // Checked before opening too: opening a FIFO would wait for a writer.
  if (!statSync(path).isFile()) throw new Error('not a regular file');
  const fd = openSync(path, 'r');
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error('not a regular file');
    if (stats.size > cap) throw new Error(`${stats.size} bytes is more than ${cap}${capNote(cap)}`);
    let buffer = new Uint8Array(Math.min(stats.size + 1, cap + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > cap) throw new Error(`the file is longer than ${cap} bytes${capNote(cap)}`);
        const grown = new Uint8Array(Math.min(buffer.length * 2, cap + 1));
        grown.set(buffer);
        buffer = grown;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > cap) throw new Error(`the file is longer than ${cap} bytes${capNote(cap)}`);
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
