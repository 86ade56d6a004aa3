// Exit codes and CliError: every failure the command reports, mapped to one exit
// code and one clear message (malformed input, usage, I/O, internal), as in
// CONVENTIONS 6: errors say whose fault they are.
import { AssemblyError, KvmFormatError } from '@keyvm/assembler';
import { ImageError } from '@keyvm/image';
import { TemporaryFileError } from '@keyvm/image/node';
import { MachineError } from '@keyvm/interpreter';

/** The process exit codes, documented in the README. */
export const ExitCode = Object.freeze({
  /** The machine halted (or a verb other than run/resume succeeded). */
  ok: 0,
  /** The machine stopped on a guest fault that no keeper handled. */
  fault: 1,
  /** Bad command-line usage: unknown verb or flag, a bad flag value. */
  usage: 2,
  /** The prime time meter ran out. */
  outOfGas: 3,
  /** Malformed input: assembly that does not assemble, a corrupt .kvm file or image. */
  malformed: 4,
  /** A file could not be read or written. */
  io: 5,
  /** Extension: a domain waits for input and nothing else can run. */
  waiting: 6,
  /** Extension: --max-steps instructions ran; the machine can continue (save it with --save). */
  paused: 7,
  /** A bug in keyvm itself (BSD's EX_SOFTWARE). */
  internal: 70,
} as const);
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure with its exit code and a message meant for people (no stack trace). */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string): CliError => new CliError(ExitCode.usage, message);
export const malformed = (message: string, cause?: unknown): CliError =>
  new CliError(ExitCode.malformed, message, { cause });

interface NodeSystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
}

const isSystemError = (e: unknown): e is NodeSystemError =>
  e instanceof Error && typeof (e as Partial<NodeSystemError>).code === 'string' && 'syscall' in e;

/** Human wording for the common errno codes. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EEXIST: 'file exists',
  EPIPE: 'broken pipe',
  EBADF: 'it is closed',
  EFBIG: 'file too large',
};

/** What went wrong, for people: `no such file or directory (ENOENT)`. */
function errnoText(e: unknown): string {
  if (!isSystemError(e)) return String(e);
  return `${ERRNO_TEXT[e.code] ?? e.message} (${e.code})`;
}

/** An fs error as `cannot read 'x': no such file or directory (ENOENT)`. */
export function ioError(action: string, path: string, e: unknown): CliError {
  return new CliError(ExitCode.io, `cannot ${action} '${path}': ${errnoText(e)}`, { cause: e });
}

/**
 * A failed write to `path`. When the temporary file beside it could not be made
 * (the directory is not writable…), say so and name the directory, not the file;
 * a missing directory is still told as the path's fault.
 */
export function writeError(path: string, e: unknown): CliError {
  if (e instanceof TemporaryFileError && e.code !== 'ENOENT' && e.code !== 'ENOTDIR')
    return new CliError(
      ExitCode.io,
      `cannot write '${path}': cannot create a temporary file in its directory '${e.directory}': ${errnoText(e.cause)}`,
      { cause: e },
    );
  return ioError('write', path, e instanceof TemporaryFileError ? e.cause : e);
}

/**
 * Map anything thrown to a CliError. `file` names the input for malformed-input
 * messages. Errors that are not ours to explain become internal errors (exit 70).
 */
export function toCliError(e: unknown, file?: string): CliError {
  if (e instanceof CliError) return e;
  const prefix = file === undefined ? '' : `${file}: `;
  if (e instanceof AssemblyError) return malformed(e.format(), e);
  if (e instanceof KvmFormatError) return malformed(`${prefix}${e.message} [${e.code}]`, e);
  if (e instanceof ImageError) return malformed(`${prefix}malformed image: ${e.message}`, e);
  if (e instanceof MachineError) return new CliError(ExitCode.usage, e.message, { cause: e });
  if (isSystemError(e)) return ioError(e.syscall ?? 'access', e.path ?? file ?? '?', e);
  const message = e instanceof Error ? e.message : String(e);
  return new CliError(
    ExitCode.internal,
    `internal error: ${message} (this is a bug in keyvm; KEYVM_DEBUG=1 for a stack trace)`,
    { cause: e },
  );
}
