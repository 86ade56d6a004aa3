// "Did you mean" suggestions: the closest candidate by edit distance (with
// transpositions), compared case-insensitively, in bounded time: each lookup
// compares against a bounded set of candidates, and an assembly has a fixed budget.

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/** The longest word that closestMatch looks for a match to. */
const MAX_SUGGESTED_LENGTH = 64;

/**
 * The candidate closest to `word` (ties go to the earlier candidate), or
 * undefined when none is close enough to be a plausible typo.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  // The distance takes time and memory in the product of the lengths: no guesses for long words.
  if (word.length > MAX_SUGGESTED_LENGTH) return undefined;
  const needle = word.toUpperCase();
  const limit = Math.min(2, Math.max(1, Math.floor(needle.length / 3)));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate.length > needle.length + limit) continue; // upper-casing never shortens
    const upper = candidate.toUpperCase();
    // The distance is at least the difference in length: skip what cannot be close (and long names).
    if (Math.abs(upper.length - needle.length) > limit) continue;
    const distance = editDistance(needle, upper);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** Candidates of one length one lookup compares at most (the first ones, in definition order). */
export const MAX_COMPARED_PER_LENGTH = 512;
/** Comparisons one Suggester makes in all; past it, it suggests nothing (hostile sources). */
export const MAX_COMPARISONS = 20_000;

/** Work done by all Suggesters, for tests that check it grows no faster than the input. */
export const suggestionWork = { comparisons: 0 };

/**
 * Suggestions against one table of names, in bounded time however many names and
 * lookups there are: names are grouped by length once; a lookup compares at most
 * MAX_COMPARED_PER_LENGTH names of each length that could be close, repeated
 * lookups of a name are answered from a cache, and after MAX_COMPARISONS in all
 * it stops suggesting. (A quadratic search made a 113 KB source take a minute.)
 */
export class Suggester {
  readonly #names: () => Iterable<string>;
  #byLength: Map<number, string[]> | undefined;
  readonly #cache = new Map<string, string | undefined>();
  #budget = MAX_COMPARISONS;

  /** `names` is read at the first lookup, so the table may still grow until then. */
  constructor(names: () => Iterable<string>) {
    this.#names = names;
  }

  suggest(word: string): string | undefined {
    if (word.length > MAX_SUGGESTED_LENGTH || this.#budget <= 0) return undefined;
    const cached = this.#cache.get(word);
    if (cached !== undefined || this.#cache.has(word)) return cached;
    if (this.#byLength === undefined) {
      this.#byLength = new Map();
      for (const name of this.#names()) {
        if (name.length > MAX_SUGGESTED_LENGTH + 2) continue;
        const list = this.#byLength.get(name.length);
        if (list === undefined) this.#byLength.set(name.length, [name]);
        else if (list.length < MAX_COMPARED_PER_LENGTH) list.push(name);
      }
    }
    const limit = Math.min(2, Math.max(1, Math.floor(word.length / 3)));
    const candidates: string[] = [];
    for (let n = word.length - limit; n <= word.length + limit; n++)
      for (const name of this.#byLength.get(n) ?? []) candidates.push(name);
    this.#budget -= candidates.length;
    suggestionWork.comparisons += candidates.length;
    const guess = closestMatch(word, candidates);
    if (this.#cache.size < MAX_COMPARED_PER_LENGTH) this.#cache.set(word, guess);
    return guess;
  }
}
