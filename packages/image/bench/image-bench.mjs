// Benchmark (not a test): save and load a machine of 100,000 data pages of 256
// words, against sha256 over the same bytes in the same run. Run with `pnpm bench`
// (builds dist first). PAGES / WORDS / RUNS environment variables override the size.
import { createHash } from 'node:crypto';
import { PageType, Store } from '@keyvm/core';
import { decodeImage, encodeImage, imageHash } from '../dist/index.js';

const PAGES = Number(process.env.PAGES ?? 100_000);
const WORDS = Number(process.env.WORDS ?? 256);
const RUNS = Number(process.env.RUNS ?? 5);

function buildStore() {
  const s = new Store(); // prime meters unlimited
  const mem = s.meterKey(s.primeMemory, true);
  let x = 0x9e3779b9;
  for (let p = 0; p < PAGES; p++) {
    const words = s.dataPage(s.createPage(PageType.data, mem, WORDS), true).words;
    for (let i = 0; i < WORDS; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) | 0; // deterministic contents
      words[i] = x;
    }
  }
  return s;
}

/** Best of RUNS (after one warm-up) in seconds. */
function time(f) {
  f();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    f();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

const store = buildStore();
const bytes = encodeImage(store);
const mb = bytes.length / 1e6;
const check = imageHash(encodeImage(decodeImage(bytes))) === imageHash(bytes);

const tSave = time(() => encodeImage(store));
const tLoad = time(() => decodeImage(bytes));
const tHash = time(() => createHash('sha256').update(bytes).digest());

const rate = (t) => `${(mb / t).toFixed(0).padStart(6)} MB/s  (${(t * 1000).toFixed(1)} ms)`;
console.log(
  `image bench: ${PAGES} pages x ${WORDS} words, image ${mb.toFixed(1)} MB, best of ${RUNS}, node ${process.version}`,
);
console.log(`  round trip identical:     ${check}`);
console.log(`  save (encodeImage):       ${rate(tSave)}`);
console.log(`  load (decodeImage):       ${rate(tLoad)}`);
console.log(`  save + load (bytes / (t_save + t_load)): ${rate(tSave + tLoad)}`);
console.log(`  sha256 alone:             ${rate(tHash)}`);
console.log(
  `  ratio (t_save + t_load) / (2 x t_sha256): ${((tSave + tLoad) / (2 * tHash)).toFixed(2)}  (target <= 2; each of save and load hashes the image once, so 1.00 is the floor)`,
);
console.log(
  `  ratio t_save / t_sha256: ${(tSave / tHash).toFixed(2)}, t_load / t_sha256: ${(tLoad / tHash).toFixed(2)}`,
);
