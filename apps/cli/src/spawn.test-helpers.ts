// Test helpers: run the built `keyvm` binary as a real process and capture what it does.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(REPO, 'apps/cli/dist/bin.js');
export const EXAMPLES = join(REPO, 'examples');

export interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
}

export function assertBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (pnpm typecheck, or tsc -b)`);
}

/** How a test runs keyvm: stdin as text, a file descriptor, or closed; as another user. */
export interface KeyvmOptions {
  input?: string | Uint8Array;
  env?: Record<string, string>;
  /** An open file descriptor for stdin, or `closed` (the shell's `<&-`); else `input` on a pipe. */
  stdin?: number | 'closed';
  uid?: number;
  gid?: number;
}

/** Run `keyvm args…` in the repository root, with stdin `input`. */
export function keyvm(args: readonly string[], options: KeyvmOptions = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const closed = options.stdin === 'closed';
    const [command, argv] = closed
      ? ['/bin/sh', ['-c', 'exec "$0" "$@" <&-', process.execPath, BIN, ...args]]
      : [process.execPath, [BIN, ...args]];
    const child = spawn(command, argv, {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', KEYVM_DEBUG: '', ...options.env },
      stdio: [typeof options.stdin === 'number' ? options.stdin : 'pipe', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b)); // piped: never null
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
      });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // the command may exit before reading all of stdin
      child.stdin.end(options.input ?? '');
    }
  });
}

/** `keyvm … --json` parsed; stdout must be exactly one JSON object and a newline. */
export async function keyvmJson(
  args: readonly string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<Outcome & { json: Record<string, unknown> }> {
  const r = await keyvm([...args, '--json'], options);
  const lines = r.stdout.split('\n');
  if (lines.length !== 2 || lines[1] !== '')
    throw new Error(`stdout is not one JSON line:\n${r.stdout}\n${r.stderr}`);
  return { ...r, json: JSON.parse(lines[0]!) as Record<string, unknown> };
}

/** A fresh temporary directory. */
export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'keyvm-cli-'));

/** A writer of files in `dir`: `file(name, text)` writes one and gives its path. */
export const writerIn =
  (dir: string) =>
  (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
