// Crash-safe files: write a temporary file beside the target, fsync, rename, fsync
// the directory, so a crash leaves the old file or the new one, never a mix; and
// image files saved and loaded that way.
import { randomBytes } from 'node:crypto';
import { type Stats, unlinkSync } from 'node:fs';
import {
  access,
  constants,
  type FileHandle,
  open,
  readFile,
  realpath,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Store } from '@keyvm/core';
import { decodeImage } from './binary.js';
import { compressImage, decompressImage, isCompressedImage } from './compress.js';

/** Temporary files being written right now; removeTemporaryFiles deletes them. */
const temporaryFiles = new Set<string>();

/** Random temporary names tried before giving up (each try fails only if the name exists). */
const TEMPORARY_ATTEMPTS = 5;

/** At most this much of the target's name goes into the temporary name (names are capped at 255 bytes). */
const TEMPORARY_NAME_PART = 64;

/**
 * The temporary file beside the target could not be created (the directory is not
 * writable, does not exist, …). `code` and `syscall` are those of the failed open,
 * `path` the temporary file's, `directory` where it was to be, `target` the file
 * that was to be written (untouched).
 */
export class TemporaryFileError extends Error {
  override readonly name = 'TemporaryFileError';
  readonly code: string;
  readonly syscall: string;
  readonly path: string;
  readonly directory: string;
  readonly target: string;
  constructor(target: string, directory: string, path: string, cause: NodeJS.ErrnoException) {
    super(`cannot create a temporary file in '${directory}' to write '${target}': ${cause.message}`, {
      cause,
    });
    this.code = cause.code ?? 'EIO';
    this.syscall = cause.syscall ?? 'open';
    this.path = path;
    this.directory = directory;
    this.target = target;
  }
}

/**
 * Write `data` to `path` crash-safely: write a sibling temporary file (created
 * exclusively, under a random name), fsync it, rename it over `path`, then fsync
 * the directory so the rename itself is durable. On failure the temporary file is
 * removed and `path` is untouched. A symlink is followed (its target is replaced);
 * a device or pipe (`/dev/null`, a FIFO) is written directly, as there is no file
 * to replace. An existing file keeps its permission bits, and one we may not write
 * is refused (EACCES) rather than replaced.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const target = await realpath(path).catch(() => path);
  const existing = await stat(target).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (existing?.isDirectory()) {
    // Fails with the system's own EISDIR error, naming the path.
    await (await open(target, 'r+')).close();
  }
  if (existing && !existing.isFile()) return writeFile(target, bytes);
  if (existing) await access(target, constants.W_OK);

  const dir = dirname(target);
  const { tmp, fh } = await createTemporary(path, target, dir, existing);
  try {
    try {
      await fh.writeFile(bytes);
      if (existing) await fh.chmod(existing.mode & 0o7777);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  } finally {
    temporaryFiles.delete(tmp);
  }
  await syncDirectory(dir);
}

/** Open a new temporary file beside `target` ('wx': never an existing file or a planted symlink). */
async function createTemporary(
  path: string,
  target: string,
  dir: string,
  existing: Stats | undefined,
): Promise<{ tmp: string; fh: FileHandle }> {
  const name = basename(target).slice(0, TEMPORARY_NAME_PART);
  for (let attempt = 1; ; attempt++) {
    const tmp = join(dir, `.${name}.${randomBytes(8).toString('hex')}.tmp`);
    // Registered before the open, so an interrupt while it is under way removes it too.
    temporaryFiles.add(tmp);
    try {
      return { tmp, fh: await open(tmp, 'wx', existing ? 0o600 : 0o666) };
    } catch (e) {
      temporaryFiles.delete(tmp);
      const error = e as NodeJS.ErrnoException;
      if (error.code === 'EEXIST' && attempt < TEMPORARY_ATTEMPTS) continue;
      throw new TemporaryFileError(path, dir, tmp, error);
    }
  }
}

/**
 * Delete every temporary file a write in progress has made, synchronously: for a
 * signal handler to call before the process exits (SIGINT, SIGTERM), so an
 * interrupted write leaves neither a half-written target nor a stray temporary file.
 */
export function removeTemporaryFiles(): void {
  for (const tmp of temporaryFiles) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or removed.
    }
  }
  temporaryFiles.clear();
}

async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open or fsync a directory; its rename is as durable as it gets.
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface SaveOptions {
  /** Write the file gzip-compressed (the image, and its hash, stay the uncompressed bytes). */
  readonly compress?: boolean;
}

/** Save an image crash-safely to `path` (see writeFileAtomic): the old image or the new one, never a mix. */
export async function saveImageFile(
  path: string,
  image: Uint8Array,
  options: SaveOptions = {},
): Promise<void> {
  await writeFileAtomic(path, options.compress ? compressImage(image) : image);
}

/**
 * Read and decode an image file, compressed or not (throws ImageError for a
 * malformed image, fs errors as they are). The buffer read is nobody else's, so the
 * store's data pages are views of it rather than a second copy (unless it shares
 * its memory, e.g. with a pool).
 */
export async function loadImageFile(path: string): Promise<Store> {
  const read = await readFile(path);
  const bytes = isCompressedImage(read) ? decompressImage(read) : read;
  const ours = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return decodeImage(bytes, { adopt: ours });
}
