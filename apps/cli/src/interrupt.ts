// Ctrl-C (SIGINT) and SIGTERM during a run: the run stops at the next instruction
// boundary (between run chunks), is saved with --save and exits 130 / 143. A second
// signal exits at once.

import { ExitCode } from './errors.js';

const SIGNALS = [
  ['SIGINT', ExitCode.interrupted],
  ['SIGTERM', ExitCode.terminated],
] as const;

export interface Interrupt {
  /** The exit code of the signal received, or null while none came. */
  readonly code: ExitCode | null;
  /** Resolves when a signal comes (to stop waiting for input). */
  readonly signalled: Promise<void>;
  /** Remove the handlers (before saving: the write has its own). */
  release(): void;
}

/** Watch for SIGINT and SIGTERM (only when `enabled`: the executable, not an embedder). */
export function watchInterrupts(enabled: boolean): Interrupt {
  let code: ExitCode | null = null;
  let wake = (): void => {};
  const signalled = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const handlers = enabled
    ? SIGNALS.map(([signal, exitCode]) => {
        const handler = (): void => {
          if (code !== null) process.exit(code);
          code = exitCode;
          wake();
        };
        process.on(signal, handler);
        return [signal, handler] as const;
      })
    : [];
  return {
    get code() {
      return code;
    },
    signalled,
    release(): void {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
