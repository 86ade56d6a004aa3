// Timing shared by the interpreter's benchmarks.

/**
 * The best time of each of `fs` over `rounds` rounds, each round timing every one
 * once in turn (after one warm-up each): a busy spell of the machine then slows a
 * round of each, not all of one, and the difference of two stays fair.
 */
export const bestInterleaved = (rounds, ...fs) => bestOf(wallClock, rounds, fs);

/**
 * `bestInterleaved` in the process's CPU time (user and system, every thread:
 * `process.cpuUsage`, microseconds) instead of wall-clock time: time the machine gave
 * other processes is left out, so on a loaded machine it is steadier (it still
 * counts what sharing the cores costs, such as caches other processes emptied).
 */
export const bestInterleavedCpu = (rounds, ...fs) => bestOf(cpuTime, rounds, fs);

const wallClock = (f) => {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0);
};

const cpuTime = (f) => {
  const t0 = process.cpuUsage();
  f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) * 1000;
};

const bestOf = (time, rounds, fs) => {
  for (const f of fs) f();
  const min = fs.map(() => Number.POSITIVE_INFINITY);
  for (let r = 0; r < rounds; r++) {
    fs.forEach((f, i) => {
      min[i] = Math.min(min[i], time(f));
    });
  }
  return min; // nanoseconds
};
