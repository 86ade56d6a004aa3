// Benchmark (not a test): save and load a machine of 100,000 data pages of 256
// words, against sha256 over the same bytes in the same run. Run with `pnpm bench`
// (builds dist first). PAGES / WORDS / RUNS environment variables override the size.
//
// Target (issue): save + load at 600 MB/s or better, i.e. bytes / (t_save + t_load)
// >= 600 MB/s, and (t_save + t_load) / t_sha256 <= 2 (save and load together within
// 2x of one sha256 pass over the same bytes). Other processes may load the cores:
// every figure is the best of RUNS, and the best of several invocations is the one
// to report.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PageType, Store } from '@keyvm/core';
import { decodeImage, encodeImage, imageHash, loadImageFile, saveImageFile } from '../dist/index.js';

const PAGES = Number(process.env.PAGES ?? 100_000);
const WORDS = Number(process.env.WORDS ?? 256);
const RUNS = Number(process.env.RUNS ?? 7);
const TARGET_MBPS = 600;
const TARGET_RATIO = 2;

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
async function time(f) {
  await f();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    await f();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

const store = buildStore();
const bytes = encodeImage(store);
const mb = bytes.length / 1e6;
const hash = imageHash(bytes);
const check =
  imageHash(encodeImage(decodeImage(bytes))) === hash &&
  imageHash(encodeImage(decodeImage(bytes, { adopt: true }))) === hash;

const tSave = await time(() => encodeImage(store));
const tLoad = await time(() => decodeImage(bytes));
const tAdopt = await time(() => decodeImage(bytes, { adopt: true }));
const tHash = await time(() => createHash('sha256').update(bytes).digest());
// The file as loadImageFile sees it (from the page cache): a read into a fresh
// buffer, then decodeImage adopting it. Informative; not part of the target.
const dir = await mkdtemp(join(tmpdir(), 'keyvm-image-bench-'));
const file = join(dir, 'bench.kvmi');
await saveImageFile(file, bytes);
const tRead = await time(() => readFile(file));
const tFile = await time(() => loadImageFile(file));
await rm(dir, { recursive: true, force: true });

const rate = (t) => `${(mb / t).toFixed(0).padStart(5)} MB/s  (${(t * 1000).toFixed(1).padStart(6)} ms)`;
const verdict = (t) => {
  const mbps = mb / t;
  const ratio = t / tHash;
  const ok = mbps >= TARGET_MBPS && ratio <= TARGET_RATIO;
  return `${rate(t)}  ratio (t_save + t_load) / t_sha256 = ${ratio.toFixed(2)}  ${ok ? 'MEETS' : 'MISSES'} the target`;
};
console.log(
  `image bench: ${PAGES} pages x ${WORDS} words, image ${mb.toFixed(1)} MB, best of ${RUNS}, node ${process.version}`,
);
console.log(
  `  target: bytes / (t_save + t_load) >= ${TARGET_MBPS} MB/s and (t_save + t_load) / t_sha256 <= ${TARGET_RATIO}`,
);
console.log(`  round trip identical:           ${check}`);
console.log(`  sha256 alone:                   ${rate(tHash)}`);
console.log(`  save (encodeImage):             ${rate(tSave)}`);
console.log(`  load (decodeImage, copies):     ${rate(tLoad)}`);
console.log(
  `  load (decodeImage, adopt):      ${rate(tAdopt)}   (what loadImageFile does with the file it read)`,
);
console.log(`  readFile alone (page cache):    ${rate(tRead)}`);
console.log(`  loadImageFile (read + adopt):   ${rate(tFile)}`);
console.log(`  save + load (copies):           ${verdict(tSave + tLoad)}`);
console.log(`  save + load (adopt):            ${verdict(tSave + tAdopt)}`);
