// The input device's host side for `keyvm run`: --input text, --input-file, then
// stdin read as the program asks for it (not all at once), and one -1 word after
// the last source ends (end of input, like getchar's EOF).
import { readText } from './io.js';

/** The word a read returns once every input source is used up. */
export const END_OF_INPUT = -1;

/** Code points of a string. */
const codePoints = (text: string): number[] => Array.from(text, (c) => c.codePointAt(0)!);

export class InputFeed {
  readonly #stdin: NodeJS.ReadStream | null;
  #chunks: AsyncIterator<Buffer> | null = null;
  readonly #decoder = new TextDecoder('utf-8');
  /** Whether the end-of-input word was handed out. */
  #ended: boolean;

  private constructor(stdin: NodeJS.ReadStream | null, hasSource: boolean) {
    this.#stdin = stdin;
    this.#ended = !hasSource;
  }

  /**
   * The feed for these flags and the words to queue at once (--input, then
   * --input-file). `stdin` connects standard input after them.
   */
  static async open(
    flags: { input?: string; inputFile?: string },
    stdin: NodeJS.ReadStream | null,
  ): Promise<{ feed: InputFeed; initial: number[] }> {
    const text =
      (flags.input ?? '') +
      (flags.inputFile === undefined ? '' : await readText(flags.inputFile, '--input-file'));
    const hasSource = flags.input !== undefined || flags.inputFile !== undefined || stdin !== null;
    const feed = new InputFeed(stdin, hasSource);
    const initial = codePoints(text);
    // With no stream to follow, end of input comes right after the queued text.
    if (stdin === null && hasSource) {
      initial.push(END_OF_INPUT);
      feed.#ended = true;
    }
    return { feed, initial };
  }

  /**
   * Stop reading stdin once the run is over, so keyvm exits when the program does,
   * not when the writer of its stdin closes it.
   */
  close(): void {
    if (this.#chunks !== null) this.#stdin?.destroy();
  }

  /** Whether more words may come (from stdin, or the end-of-input word). */
  get open(): boolean {
    return !this.#ended;
  }

  /**
   * The next words for a program that waits: what stdin has now (waiting for
   * some), or the end-of-input word once it is closed; [] when nothing more will come.
   */
  async next(): Promise<number[]> {
    if (this.#ended) return [];
    if (this.#stdin !== null) {
      this.#chunks ??= this.#stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      for (;;) {
        const chunk = await this.#chunks.next();
        if (chunk.done) break;
        const words = codePoints(this.#decoder.decode(chunk.value, { stream: true }));
        if (words.length > 0) return words;
      }
      const rest = codePoints(this.#decoder.decode());
      if (rest.length > 0) {
        this.#chunks = { next: async () => ({ done: true, value: undefined }) };
        return rest;
      }
    }
    this.#ended = true;
    return [END_OF_INPUT];
  }
}
