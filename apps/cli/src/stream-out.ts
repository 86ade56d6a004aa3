// Large output written as it is made: pieces of text go to stdout with backpressure,
// or to a temporary file beside the target that is renamed over it when complete
// (the same crash-safety as writeFileAtomic, without holding the whole text).
import { randomBytes } from 'node:crypto';
import { open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ioError, writeError } from './errors.js';
import { writeStream } from './io.js';
import { removeStaleTemporaries } from './temporaries.js';

/** Write `pieces` to stdout with backpressure; a failed write (EPIPE, ENOSPC) is exit 5. */
async function toStdout(pieces: Iterable<string>): Promise<void> {
  let failed: unknown;
  const onError = (e: unknown): void => {
    failed ??= e;
  };
  process.stdout.on('error', onError);
  try {
    for (const piece of pieces) {
      if (failed !== undefined) break;
      await writeStream(process.stdout, piece);
    }
  } catch (e) {
    failed ??= e;
  } finally {
    process.stdout.off('error', onError);
  }
  if (failed !== undefined) throw ioError('write', '<stdout>', failed);
}

/**
 * Write `pieces` to a new temporary file beside `path`, then rename it over `path`
 * (keeping an existing file's mode); a device or pipe is written to directly.
 */
async function toFile(path: string, pieces: Iterable<string>): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const existing = await stat(target).catch(() => undefined);
  if (existing !== undefined && !existing.isFile()) {
    try {
      const fh = await open(target, 'w');
      try {
        for (const piece of pieces) await fh.writeFile(piece); // all of it: write() may write part
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw writeError(path, e);
    }
    return;
  }
  await removeStaleTemporaries(target);
  const tmp = join(
    dirname(target),
    `.${basename(target).slice(0, 64)}.${randomBytes(8).toString('hex')}.tmp`,
  );
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(tmp, 'wx', existing ? 0o600 : 0o666);
  } catch (e) {
    throw writeError(path, e);
  }
  try {
    try {
      for (const piece of pieces) await fh.writeFile(piece); // all of it: write() may write part
      if (existing) await fh.chmod(existing.mode & 0o7777);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw writeError(path, e);
  }
}

/** Write text made in pieces to `path`, or to stdout for `-`, never holding all of it. */
export async function writeOutputPieces(path: string, pieces: Iterable<string>): Promise<void> {
  if (path === '-') return toStdout(pieces);
  return toFile(path, pieces);
}
