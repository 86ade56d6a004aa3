// Files and streams: read FILE or stdin (`-`), tell an image, a .kvm program and
// assembly text apart by their first bytes, write results to a file or stdout,
// and decide whether a stream gets colour. Files are written crash-safely
// (writeFileAtomic): a failed or interrupted write leaves the old file whole.
import { fstatSync, readFileSync, type Stats, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { assemble, decodeProgram, KVM_MAGIC, type Program } from '@keyvm/assembler';
import type { Store } from '@keyvm/core';
import { decodeImage, IMAGE_MAGIC } from '@keyvm/image';
import {
  compressImage,
  decompressImage,
  isCompressedImage,
  removeTemporaryFiles,
  saveImageFile,
  writeFileAtomic,
} from '@keyvm/image/node';
import { CliError, ioError, malformed, toCliError, writeError } from './errors.js';
import { cliImageLimits, currentMaxInput, readFileCapped, readStreamCapped } from './input-limits.js';
import { compileLanguage, isLanguageSource } from './lang.js';
import { removeStaleTemporaries } from './temporaries.js';

/** The name `-` stands for in messages. */
export const STDIN_NAME = '<stdin>';

export const displayName = (path: string): string => (path === '-' ? STDIN_NAME : path);

/** A system error of our own making, shaped like the ones fs throws. */
const systemError = (code: string, syscall: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: ${syscall} ${STDIN_NAME}`), { code, syscall });

/**
 * Stdin must be something to read: a directory is EISDIR (as for a named file), and
 * a closed stdin is EBADF rather than an empty program.
 */
function checkStdin(): void {
  const stats = fstatSync(0); // EBADF where stdin is closed and not reopened
  if (stats.isDirectory()) throw systemError('EISDIR', 'read');
  if (stdinWasClosed(stats)) throw systemError('EBADF', 'read');
}

/**
 * Node reopens a closed stdin as /dev/null for reading and writing; a shell's
 * `< /dev/null` opens it read-only. Only Linux shows the open mode (/proc), so
 * elsewhere a closed stdin still reads as empty.
 */
function stdinWasClosed(stats: Stats): boolean {
  if (process.platform !== 'linux' || !stats.isCharacterDevice()) return false;
  try {
    if (stats.rdev !== statSync('/dev/null').rdev) return false;
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/fdinfo/0', 'utf8'))?.[1];
    const O_ACCMODE = 3;
    const O_RDWR = 2;
    return flags !== undefined && (Number.parseInt(flags, 8) & O_ACCMODE) === O_RDWR;
  } catch {
    return false;
  }
}

/** All of stdin as bytes, at most --max-input of them. */
async function readStdin(): Promise<Uint8Array> {
  checkStdin();
  return readStreamCapped(process.stdin, STDIN_NAME);
}

/**
 * The bytes of `path`, or of stdin for `-`, at most --max-input of them (more is
 * malformed input, exit 4, and reading stops there); fs errors become exit 5.
 */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return path === '-' ? await readStdin() : await readFileCapped(path, path);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw ioError('read', displayName(path), e);
  }
}

/** `path` as UTF-8 text (`flag` names where it was given); invalid UTF-8 is malformed input. */
export async function readText(path: string, flag: string): Promise<string> {
  const name = displayName(path);
  return decodeUtf8(await readBytes(path), `${flag} ${name}: not valid UTF-8 text`);
}

function decodeUtf8(bytes: Uint8Array, complaint: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed(complaint);
  }
}

const startsWith = (bytes: Uint8Array, magic: ArrayLike<number>): boolean => {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
};

/** What an input file turned out to be. */
export type Input =
  | { readonly kind: 'image'; readonly name: string; readonly bytes: Uint8Array; readonly store: Store }
  | { readonly kind: 'kvm'; readonly name: string; readonly program: Program }
  | { readonly kind: 'source'; readonly name: string; readonly program: Program };

export type InputKind = Input['kind'];

export const KIND_TEXT: Readonly<Record<InputKind, string>> = {
  image: 'a KeyVM image',
  kvm: 'a .kvm program',
  source: 'assembly source',
};

/**
 * Read and decode FILE by its magic bytes (not its extension): an image, a .kvm
 * program, or else UTF-8 assembly text. Malformed input throws a CliError (exit 4).
 */
export async function loadInput(path: string): Promise<Input> {
  const read = await readBytes(path);
  const name = displayName(path);
  try {
    // A gzip-compressed file (--compress) holds an image: unpack it (capped) and go on.
    const limits = cliImageLimits();
    const bytes = isCompressedImage(read) ? decompressImage(read, currentMaxInput(), limits) : read;
    if (startsWith(bytes, IMAGE_MAGIC))
      return { kind: 'image', name, bytes, store: decodeImage(bytes, { limits }) };
    if (startsWith(bytes, KVM_MAGIC)) return { kind: 'kvm', name, program: decodeProgram(bytes) };
    if (isLanguageSource(path)) {
      const text = decodeUtf8(bytes, `${name}: not UTF-8 text`);
      return { kind: 'source', name, program: compileLanguage(text, path).program };
    }
    return {
      kind: 'source',
      name,
      program: assemble(decodeUtf8(bytes, `${name}: not an image, a .kvm program or UTF-8 assembly text`), {
        file: name,
      }),
    };
  } catch (e) {
    throw toCliError(e, name);
  }
}

/** Load FILE and insist on some kinds: another kind is malformed input for this verb. */
export async function loadInputOf<K extends InputKind>(
  path: string,
  kinds: readonly K[],
  hint = '',
): Promise<Extract<Input, { kind: K }>> {
  const input = await loadInput(path);
  if (!(kinds as readonly InputKind[]).includes(input.kind)) {
    const wanted = kinds.map((k) => KIND_TEXT[k]).join(' or ');
    throw malformed(`${input.name} is ${KIND_TEXT[input.kind]}, not ${wanted}${hint}`);
  }
  return input as Extract<Input, { kind: K }>;
}

/** Write `data` to a stream and wait until it is handed to the OS (or buffered without backpressure). */
export function writeStream(stream: Writable, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(data, (err) => {
      if (err) reject(err);
    });
    if (ok) resolve();
    else stream.once('drain', () => resolve());
  });
}

/** The signals that interrupt a write, and the shell's exit code for each (128 + its number). */
const INTERRUPTS = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const;

let interruptCleanup = false;

/**
 * For the keyvm executable: while a file is being written, an interrupt removes
 * its temporary file and exits with the signal's code. The handlers are there only
 * during the write, so a long run still stops at once on the default action (a
 * handler cannot run while the machine runs), and embedders of main() keep theirs.
 */
export function cleanUpOnInterrupt(): void {
  interruptCleanup = true;
}

/** Run `write` with the interrupt handlers in place (when cleanUpOnInterrupt was called). */
async function guardWrite(write: () => Promise<void>): Promise<void> {
  if (!interruptCleanup) return write();
  const installed = INTERRUPTS.map(([signal, code]) => {
    const onSignal = (): void => {
      removeTemporaryFiles();
      process.exit(code);
    };
    process.on(signal, onSignal);
    return () => process.off(signal, onSignal);
  });
  try {
    await write();
  } finally {
    for (const remove of installed) remove();
  }
}

/** Write bytes or text crash-safely to `path`, or to stdout for `-`. */
export async function writeOutput(path: string, data: string | Uint8Array): Promise<void> {
  if (path === '-') {
    try {
      await writeStream(process.stdout, data);
    } catch (e) {
      throw ioError('write', '<stdout>', e);
    }
    return;
  }
  await removeStaleTemporaries(path);
  try {
    await guardWrite(() => writeFileAtomic(path, data));
  } catch (e) {
    throw writeError(path, e);
  }
}

/** Save an image crash-safely to `path`, or write it to stdout for `-`. */
export async function writeImage(path: string, bytes: Uint8Array, compress = false): Promise<void> {
  if (path === '-') return writeOutput(path, compress ? compressImage(bytes) : bytes);
  await removeStaleTemporaries(path);
  try {
    await guardWrite(() => saveImageFile(path, bytes, { compress }));
  } catch (e) {
    throw writeError(path, e);
  }
}

/** Colour only on a terminal and never when NO_COLOR is set (https://no-color.org). */
export function colourFor(stream: { isTTY?: boolean }): boolean {
  const noColor = process.env.NO_COLOR;
  return stream.isTTY === true && (noColor === undefined || noColor === '');
}

export interface Paint {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const sgr =
  (on: boolean, open: number, close: number) =>
  (s: string): string =>
    on ? `\x1b[${open}m${s}\x1b[${close}m` : s;

export function paint(on: boolean): Paint {
  return {
    red: sgr(on, 31, 39),
    green: sgr(on, 32, 39),
    yellow: sgr(on, 33, 39),
    bold: sgr(on, 1, 22),
    dim: sgr(on, 2, 22),
  };
}
