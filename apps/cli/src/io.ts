// Files and streams: read FILE or stdin (`-`), tell an image, a .kvm program and
// assembly text apart by their first bytes, write results to a file or stdout,
// and decide whether a stream gets colour.
import { readFile, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { assemble, decodeProgram, KVM_MAGIC, type Program } from '@keyvm/assembler';
import type { Store } from '@keyvm/core';
import {
  compressImage,
  decodeImage,
  decompressImage,
  IMAGE_MAGIC,
  isCompressedImage,
  saveImageFile,
} from '@keyvm/image';
import { ioError, malformed, toCliError } from './errors.js';

/** The name `-` stands for in messages. */
export const STDIN_NAME = '<stdin>';

export const displayName = (path: string): string => (path === '-' ? STDIN_NAME : path);

/** All of stdin as bytes. */
async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The bytes of `path`, or of stdin for `-`; fs errors become exit 5. */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return path === '-' ? await readStdin() : await readFile(path);
  } catch (e) {
    throw ioError('read', displayName(path), e);
  }
}

/** `path` as UTF-8 text; invalid UTF-8 is malformed input. */
export async function readText(path: string): Promise<string> {
  return decodeUtf8(await readBytes(path), displayName(path));
}

function decodeUtf8(bytes: Uint8Array, name: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed(`${name}: not an image, a .kvm program or UTF-8 assembly text`);
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
    const bytes = isCompressedImage(read) ? decompressImage(read) : read;
    if (startsWith(bytes, IMAGE_MAGIC)) return { kind: 'image', name, bytes, store: decodeImage(bytes) };
    if (startsWith(bytes, KVM_MAGIC)) return { kind: 'kvm', name, program: decodeProgram(bytes) };
    return { kind: 'source', name, program: assemble(decodeUtf8(bytes, name), { file: name }) };
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

/** Write bytes or text to `path`, or to stdout for `-`. */
export async function writeOutput(path: string, data: string | Uint8Array): Promise<void> {
  try {
    if (path === '-') await writeStream(process.stdout, data);
    else await writeFile(path, data);
  } catch (e) {
    throw ioError('write', path === '-' ? '<stdout>' : path, e);
  }
}

/** Save an image crash-safely to `path`, or write it to stdout for `-`. */
export async function writeImage(path: string, bytes: Uint8Array, compress = false): Promise<void> {
  if (path === '-') return writeOutput(path, compress ? compressImage(bytes) : bytes);
  try {
    await saveImageFile(path, bytes, { compress });
  } catch (e) {
    throw ioError('write', path, e);
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
