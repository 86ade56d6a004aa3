// Where a running program's console output goes: stdout (stderr when stdout carries
// an image), written out as the run goes, with control characters escaped on a
// terminal (unless --raw) and the progress line cleared before program text.

/** Console output is written out whenever this many characters are pending (and after every run chunk). */
const CONSOLE_FLUSH = 8192;

/** C0 and C1 control characters but tab and newline: they could drive a terminal. */
const CONTROL = /\p{Cc}/gu;

/** Text safe to show on a terminal: ESC as `\x1B`, CR as `\r`, NUL as `\0` (as the assembler shows them). */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (code === 9 || code === 10) return c;
    if (code === 0) return '\\0';
    if (code === 13) return '\\r';
    return `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
  });
}

/** A progress line on stderr that program output must not garble. */
export interface ProgressLine {
  /** Whether it is on screen now. */
  shown: boolean;
  clear(): void;
}

export class ConsoleSink {
  readonly stream: NodeJS.WriteStream | null;
  readonly #escape: boolean;
  #pending = '';
  /** Whether anything was written, and whether it ended a line. */
  wrote = false;
  endsWithNewline = true;
  progress: ProgressLine | null = null;

  /** `stream` null collects nothing here (--json: the machine keeps the output). */
  constructor(stream: NodeJS.WriteStream | null, raw: boolean) {
    this.stream = stream;
    this.#escape = stream?.isTTY === true && !raw;
  }

  /** The device host's writer. */
  readonly write = (text: string): void => {
    this.#pending += text;
    if (this.#pending.length >= CONSOLE_FLUSH) this.flush();
  };

  /** Write out what is pending (stdout to a pipe or file is synchronous on POSIX). */
  flush(): void {
    if (this.#pending.length === 0 || this.stream === null) return;
    const text = this.#escape ? escapeControls(this.#pending) : this.#pending;
    this.#pending = '';
    if (this.progress?.shown && this.stream.isTTY) this.progress.clear();
    this.stream.write(text);
    this.wrote = true;
    this.endsWithNewline = text.endsWith('\n');
  }
}
