// "Did you mean" suggestions: the closest candidate by edit distance (with
// transpositions), compared case-insensitively.

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
