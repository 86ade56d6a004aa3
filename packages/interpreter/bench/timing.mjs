// Timing shared by the interpreter's benchmarks.

/**
 * The best time of each of `fs` over `rounds` rounds, each round timing every one
 * once in turn (after one warm-up each): a busy spell of the machine then slows a
 * round of each, not all of one, and the difference of two stays fair.
 */
export const bestInterleaved = (rounds, ...fs) => {
  for (const f of fs) f();
  const min = fs.map(() => Number.POSITIVE_INFINITY);
  for (let r = 0; r < rounds; r++) {
    fs.forEach((f, i) => {
      const t0 = process.hrtime.bigint();
      f();
      min[i] = Math.min(min[i], Number(process.hrtime.bigint() - t0));
    });
  }
  return min; // nanoseconds
};
