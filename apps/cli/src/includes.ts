// How the CLI lets the assembler read `.include`d files: relative to the including
// file (or the working directory for stdin), from disk, size-bounded.
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { AssembleOptions } from '@keyvm/assembler';

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
      const stats = statSync(resolved);
      // Only regular files: a device or pipe (/dev/zero, a FIFO) could be read forever.
      if (!stats.isFile()) throw new Error('not a regular file');
      if (stats.size > MAX_INCLUDE_BYTES)
        throw new Error(`${stats.size} bytes is more than ${MAX_INCLUDE_BYTES}`);
      total += stats.size;
      if (total > MAX_TOTAL_INCLUDE_BYTES)
        throw new Error(`the included files add up to more than ${MAX_TOTAL_INCLUDE_BYTES} bytes`);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(resolved));
      } catch (e) {
        if (e instanceof TypeError) throw new Error('not valid UTF-8 text');
        throw e;
      }
      const shown = isAbsolute(name) ? resolved : relative(process.cwd(), resolved) || resolved;
      return { file: shown, text };
    },
  };
}
