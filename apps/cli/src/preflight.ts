// Checks made before a run or a write, so that no work is wasted and no terminal is
// flooded: the target of --save can be written, and binary output (an image, a .kvm
// program) does not go to a terminal (as gzip refuses to).
import { accessSync, constants, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TemporaryFileError } from '@keyvm/image/node';
import { ioError, usageError, writeError } from './errors.js';

/**
 * Fail now (exit 5, with the message the write itself would give) when `path` cannot
 * be written as keyvm writes files: a temporary file made in its directory, renamed
 * over it. Asks the system (access) rather than making a file, so nothing appears
 * beside the target before the save; `-` (stdout) is not checked.
 */
export function checkWritable(path: string): void {
  if (path === '-') return;
  try {
    if (statSync(path).isDirectory())
      throw Object.assign(new Error(`EISDIR: ${path}`), { code: 'EISDIR', syscall: 'open', path });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('write', path, e);
  }
  const directory = dirname(path);
  try {
    accessSync(directory, constants.W_OK | constants.X_OK);
  } catch (e) {
    const where = join(directory, `.${basename(path)}.tmp`);
    throw writeError(path, new TemporaryFileError(path, directory, where, e as NodeJS.ErrnoException));
  }
}

/** Refuse to write binary `what` to stdout when stdout is a terminal (exit 2). */
export function refuseBinaryToTerminal(what: string, flag: string): void {
  if (process.stdout.isTTY === true)
    throw usageError(
      `refusing to write ${what} to a terminal (${flag} -): redirect stdout to a file or a pipe, or give a file name`,
    );
}
