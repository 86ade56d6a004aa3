// Bounded views for the viewing verbs and traces: a large stack, page or list is
// shown as its first and last few items and a count, never copied or printed whole.

/** Items shown at each end of a long stack, page or list. */
export const VIEW_ENDS = 16;

/** The first and last `ends` items of `total`, read through `slice(from, to)`, and how many lie between. */
export interface BoundedWords {
  readonly first: number[];
  readonly last: number[];
  readonly omitted: number;
}

export function boundedWords(
  total: number,
  slice: (from: number, to: number) => number[],
  ends = VIEW_ENDS,
): BoundedWords {
  if (total <= 2 * ends) return { first: slice(0, total), last: [], omitted: 0 };
  return { first: slice(0, ends), last: slice(total - ends, total), omitted: total - 2 * ends };
}

/** The bounded words as one array (first, then last) and the count left out between them. */
export function flatWords(b: BoundedWords): { words: number[]; omitted: number } {
  return { words: [...b.first, ...b.last], omitted: b.omitted };
}

/**
 * A stack of `sp` words for people, from a bounded copy that ends with its top
 * words: the top 16 at most, after `…` when there are more (as stackText).
 */
export function stackTopText(sp: number, endsWithTop: readonly number[]): string {
  const top = endsWithTop.slice(-VIEW_ENDS).map(String);
  return `[${sp > VIEW_ENDS ? ['…', ...top].join(' ') : top.join(' ')}]`;
}

/** `items` shown as the first and last `ends` of them, with a line saying how many were left out. */
export function* boundedItems<T>(
  items: readonly T[],
  show: (item: T) => string,
  omittedLine: (n: number) => string,
  ends = VIEW_ENDS,
): Generator<string> {
  if (items.length <= 2 * ends) {
    for (const item of items) yield show(item);
    return;
  }
  for (let i = 0; i < ends; i++) yield show(items[i]!);
  yield omittedLine(items.length - 2 * ends);
  for (let i = items.length - ends; i < items.length; i++) yield show(items[i]!);
}

/** Lines joined into pieces of about `size` characters, for streaming with backpressure. */
export function* batchLines(lines: Iterable<string>, size = 1 << 16): Generator<string> {
  let piece = '';
  for (const line of lines) {
    piece += `${line}\n`;
    if (piece.length >= size) {
      yield piece;
      piece = '';
    }
  }
  if (piece.length > 0) yield piece;
}

/**
 * `JSON.stringify(value, null, 2)` plus a newline, in pieces: the arrays directly
 * under the top-level object are written an element at a time, so a view of a
 * million objects never becomes one string. The text is the same as stringify's.
 */
export function* jsonPieces(value: object): Generator<string> {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) {
    yield '{}\n';
    return;
  }
  yield '{\n';
  let piece = '';
  for (let e = 0; e < entries.length; e++) {
    const [key, v] = entries[e]!;
    const comma = e < entries.length - 1 ? ',' : '';
    if (Array.isArray(v) && v.length > 0) {
      piece += `  ${JSON.stringify(key)}: [\n`;
      for (let i = 0; i < v.length; i++) {
        const item = JSON.stringify(v[i] ?? null, null, 2).replace(/\n/g, '\n    ');
        piece += `    ${item}${i < v.length - 1 ? ',' : ''}\n`;
        if (piece.length >= 1 << 16) {
          yield piece;
          piece = '';
        }
      }
      piece += `  ]${comma}\n`;
    } else {
      piece += `  ${JSON.stringify(key)}: ${JSON.stringify(v, null, 2).replace(/\n/g, '\n  ')}${comma}\n`;
    }
  }
  yield `${piece}}\n`;
}
