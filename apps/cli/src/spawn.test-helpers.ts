// Test helpers: run the built `keyvm` binary as a real process and capture what it does.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
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

/** Run `keyvm args…` in the repository root, with stdin `input`. */
export function keyvm(
  args: readonly string[],
  options: { input?: string | Uint8Array; env?: Record<string, string> } = {},
): Outcome {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO,
    input: options.input ?? '',
    env: { ...process.env, NO_COLOR: '1', KEYVM_DEBUG: '', ...options.env },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return {
    code: r.status,
    stdout: r.stdout.toString('utf8'),
    stderr: r.stderr.toString('utf8'),
    stdoutBytes: r.stdout,
  };
}

/** `keyvm … --json` parsed; stdout must be exactly one JSON object and a newline. */
export function keyvmJson(
  args: readonly string[],
  options: { input?: string; env?: Record<string, string> } = {},
) {
  const r = keyvm([...args, '--json'], options);
  const lines = r.stdout.split('\n');
  if (lines.length !== 2 || lines[1] !== '')
    throw new Error(`stdout is not one JSON line:\n${r.stdout}\n${r.stderr}`);
  return { ...r, json: JSON.parse(lines[0]!) as Record<string, unknown> };
}

/** A fresh temporary directory. */
export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'keyvm-cli-'));
