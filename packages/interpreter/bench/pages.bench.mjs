// Benchmarks of programs that keep their data in pages (compiled page access), each
// beside plain JavaScript and QuickJS-wasm measured in the same run: read the ratios,
// with the load average printed. Also the first run after a forced full GC against
// the steady state. Run: pnpm bench (node --expose-gc).
import { loadavg } from 'node:os';
import { Op } from '@keyvm/isa';
import { getQuickJS } from 'quickjs-emscripten';
import { Machine } from '../dist/index.js';
import { bestInterleaved } from './timing.mjs';

const load = () => loadavg()[0].toFixed(2);
console.log(`load average at start: ${load()} (other processes slow every figure)`);

/** `code` with labels: 'name:' defines one, ':name' pushes its address. */
const assemble = (items) => {
  const labels = new Map();
  let at = 0;
  for (const it of items) {
    if (typeof it === 'string' && it.endsWith(':')) labels.set(it.slice(0, -1), at);
    else at += typeof it === 'string' && it.startsWith(':') ? 2 : 1;
  }
  const out = [];
  for (const it of items) {
    if (typeof it === 'string' && it.endsWith(':')) continue;
    if (typeof it === 'string' && it.startsWith(':')) out.push(Op.PUSH, labels.get(it.slice(1)));
    else out.push(typeof it === 'string' ? Op[it] : it);
  }
  return out;
};

// --- 1. sieve of Eratosthenes below 1,000,000 in a data page (slot 12), counting primes.
const N = 1_000_000;
const PRIMES = 78_498;
// biome-ignore format: one instruction per line
const sieveCode = assemble([
  'PUSH', 12, 'PUSH', 0, 'PUSH', 1, 'PUSH', N, 'CREATEPAGE', // slot 12: N words, all 0
  'PUSH', 0, // count
  'PUSH', 2, // i                                   stack: count i
  'outer:',
  'DUP', 'PUSH', N, 'LT', 'ISZERO', ':done', 'SWAP', 'JUMPIF',
  'PUSH', 12, 'PICK', 1, 'PAGEREAD', ':next', 'SWAP', 'JUMPIF', // marked: not a prime
  'SWAP', 'PUSH', 1, 'ADD', 'SWAP', // count + 1
  'DUP', 'DUP', 'ADD', // j = 2i                       stack: count i j
  'inner:',
  'DUP', 'PUSH', N, 'LT', 'ISZERO', ':drop', 'SWAP', 'JUMPIF',
  'PUSH', 1, 'PUSH', 12, 'PICK', 2, 'PAGEWRITE', // page[j] = 1 (word slot index)
  'OVER', 'ADD', ':inner', 'JUMP', // j += i
  'drop:',
  'DROP',
  'next:',
  'PUSH', 1, 'ADD', ':outer', 'JUMP',
  'done:',
  'DROP', 'HALT',
]);
const vmSieve = (jit) => () => {
  const m = Machine.boot({ code: sieveCode }, { devices: false, quantum: 1 << 30, jit });
  const r = m.run();
  if (r.status !== 'halted' || m.stack()[0] !== PRIMES) throw new Error(`bad sieve ${JSON.stringify(r)}`);
};
const sieveSource = `(function sieve(n) {
  const page = new Int32Array(n);
  let count = 0;
  for (let i = 2; i < n; i++) {
    if (page[i] !== 0) continue;
    count++;
    for (let j = i + i; j < n; j += i) page[j] = 1;
  }
  return count;
})`;
// The same text QuickJS runs, compiled by V8.
const jsSieveFn = new Function(`return ${sieveSource}`)();
const jsSieve = () => {
  if (jsSieveFn(N) !== PRIMES) throw new Error('bad js sieve');
};
const QuickJS = await getQuickJS();
const qjsRuntime = QuickJS.newRuntime();
let interrupts = 0;
// Asked every so often (QuickJS counts down from 10,000 per check): a host's way to bound a guest.
qjsRuntime.setInterruptHandler(() => {
  interrupts++;
  return false;
});
const qjs = qjsRuntime.newContext();
const qjsSieve = () => {
  const result = qjs.unwrapResult(qjs.evalCode(`${sieveSource}(${N})`));
  const count = qjs.getNumber(result);
  result.dispose();
  if (count !== PRIMES) throw new Error('bad QuickJS sieve');
};
const [tSieve, tSieveOff, tSieveJs, tSieveQjs] = bestInterleaved(
  5,
  vmSieve(true),
  vmSieve(false),
  jsSieve,
  qjsSieve,
);
console.log(`sieve below ${N.toLocaleString('en')} in a data page (${PRIMES} primes), best of 5:`);
console.log(
  `  keyvm ${(tSieve / 1e6).toFixed(1)} ms (jit: false ${(tSieveOff / 1e6).toFixed(1)} ms), plain JS ${(tSieveJs / 1e6).toFixed(2)} ms, QuickJS-wasm ${(tSieveQjs / 1e6).toFixed(1)} ms (${interrupts} interrupt checks)`,
);
console.log(
  `  keyvm/js ${(tSieve / tSieveJs).toFixed(1)}x (target <= 10x); QuickJS/keyvm ${(tSieveQjs / tSieve).toFixed(2)}x (target >= 3x); jit: false/js ${(tSieveOff / tSieveJs).toFixed(1)}x   load ${load()}`,
);

// --- 2. the original KeyVM's counter in data-page word 0: 13 instructions, 3 page accesses per iteration.
const C = 5_000_000;
// biome-ignore format: one instruction per line
const counterCode = assemble([
  'PUSH', C, 'PUSH', 8, 'PUSH', 0, 'PAGEWRITE', // pagewrite(C, 8, 0)
  'loop:',
  'PUSH', 8, 'PUSH', 0, 'PAGEREAD', 'PUSH', 1, 'SUB', 'PUSH', 8, 'PUSH', 0, 'PAGEWRITE',
  ':loop', 'PUSH', 8, 'PUSH', 0, 'PAGEREAD', 'JUMPIF',
  'HALT',
]);
const vmCounter = (jit) => () => {
  const m = Machine.boot({ code: counterCode, data: [0] }, { devices: false, quantum: 1 << 30, jit });
  const r = m.run();
  if (r.status !== 'halted' || r.steps !== 4 + 13 * C + 1)
    throw new Error(`bad counter ${JSON.stringify(r)}`);
};
const jsCounter = () => {
  const page = new Int32Array(1);
  page[0] = C;
  do page[0] = (page[0] - 1) | 0;
  while (page[0] !== 0);
};
const [tCounter, tCounterOff, tCounterJs] = bestInterleaved(5, vmCounter(true), vmCounter(false), jsCounter);
console.log(
  `original KeyVM counter in data-page word 0 (${C.toLocaleString('en')} iterations x 13 instructions): keyvm ${(tCounter / C).toFixed(2)} ns/iter ` +
    `(jit: false ${(tCounterOff / C).toFixed(1)}), plain JS ${(tCounterJs / C).toFixed(2)} ns/iter: ${(tCounter / tCounterJs).toFixed(1)}x (target <= 30x)   load ${load()}`,
);

// --- 3. countdown loop on the stack (6 instructions per iteration).
const L = 20_000_000;
const loopCode = [Op.PUSH, L, Op.PUSH, 1, Op.SUB, Op.DUP, Op.PUSH, 2, Op.SWAP, Op.JUMPIF, Op.HALT];
const vmLoop = () => {
  const m = Machine.boot({ code: loopCode }, { devices: false, quantum: 1 << 30 });
  const r = m.run();
  if (r.status !== 'halted' || r.steps !== 1 + 6 * L + 1) throw new Error(`bad loop ${JSON.stringify(r)}`);
};
const jsLoop = () => {
  let n = L;
  let sink = 0;
  do {
    n = (n - 1) | 0;
    sink ^= n;
  } while (n !== 0);
  if (sink === 42) console.log('');
};
const [tLoop, tLoopJs] = bestInterleaved(5, vmLoop, jsLoop);
console.log(
  `countdown loop (${L.toLocaleString('en')} iterations x 6 instructions): keyvm ${(tLoop / L).toFixed(2)} ns/iter, plain JS ${(tLoopJs / L).toFixed(2)}: ${(tLoop / tLoopJs).toFixed(1)}x (target <= 5x)   load ${load()}`,
);

// --- 4. NUMKEY and METERREAD: ns per instruction, compiled against interpreted (jit: false),
// each from a loop doing it 8 times a round less the same loop with DROPs in its place.
// With the JIT off the dispatch loop runs them inline through the same views (the heavy
// handler only for what those refuse).
const K = 250_000;
const REPEAT = 8;
const keyLoop = (body) =>
  assemble([
    ...['PUSH', K, 'loop:'],
    ...Array.from({ length: REPEAT }, () => body).flat(),
    ...['PUSH', 1, 'SUB', 'DUP', ':loop', 'SWAP', 'JUMPIF', 'HALT'],
  ]);
const keyLoops = [
  // NUMKEY slot word: the loop counter into general slot 12 (a new key object for most
  // words: only 0..1023 are shared), and a small word (the shared key).
  [
    'NUMKEY (the loop counter)',
    32,
    ['PUSH', 12, 'PICK', 1, 'NUMKEY'],
    ['PUSH', 12, 'PICK', 1, 'DROP', 'DROP'],
  ],
  ['NUMKEY (a small word)', 32, ['PUSH', 12, 'PUSH', 5, 'NUMKEY'], ['PUSH', 12, 'PUSH', 5, 'DROP', 'DROP']],
  // The same into RECV: the views take no special slot, so this is the heavy handler's cost
  // (as every NUMKEY's was before it was compiled), compiled code leaving for it and back.
  [
    'NUMKEY into RECV (the handler)',
    32,
    ['PUSH', 9, 'PUSH', 5, 'NUMKEY'],
    ['PUSH', 9, 'PUSH', 5, 'DROP', 'DROP'],
  ],
  // METERREAD of the domain's own TIME meter (a limited prime meter: what it has less the unsettled borrow).
  ['METERREAD (own meter)', 24, ['PUSH', 0, 'METERREAD', 'DROP'], ['PUSH', 0, 'DROP', 'NOP']],
];
const vmKeys = (code, jit) => () => {
  const m = Machine.boot({ code }, { devices: false, quantum: 1 << 30, jit, time: 2 ** 40 });
  const r = m.run();
  if (r.status !== 'halted') throw new Error(`bad key loop ${JSON.stringify(r)}`);
};
console.log(
  `NUMKEY and METERREAD, ns per instruction (${K.toLocaleString('en')} rounds of ${REPEAT}, best of 5; a compiled countdown instruction ${(tLoop / L / 6).toFixed(2)} ns):`,
);
// Each figure is the loop's time per instruction less the same loop's with DROPs in its
// place, in the same mode: compiled, those DROPs cost ~nothing (fast block); interpreted,
// two dispatches, so the interpreted figure is what the instruction costs beyond them.
const perOp = {};
for (const [name, gas, body, base] of keyLoops) {
  const codes = [keyLoop(body), keyLoop(base)];
  const [on, baseOn, off, baseOff] = bestInterleaved(
    5,
    ...[true, false].flatMap((jit) => codes.map((code) => vmKeys(code, jit))),
  ).map((t) => t / (K * REPEAT));
  const [c, i] = [on - baseOn, off - baseOff];
  perOp[name] = c;
  console.log(
    `  ${name}: compiled +${c.toFixed(1)} ns (${(c / gas).toFixed(2)} ns per gas, ${gas} gas); jit: false +${i.toFixed(1)} ns over two DROPs   load ${load()}`,
  );
}
console.log(
  `  the heavy handler (every NUMKEY before this was compiled) / compiled NUMKEY of a small word: ${(perOp['NUMKEY into RECV (the handler)'] / perOp['NUMKEY (a small word)']).toFixed(1)}x`,
);

// --- 5. the first run after a forced full GC against the steady state (best of the others).
if (typeof global.gc !== 'function') {
  console.log('first run after GC: skipped (run node with --expose-gc)');
} else {
  // Rounds of: a forced full GC, the first run after it, then a second run (steady). The
  // pairs share whatever load the machine has then; the medians of each are compared.
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const afterGc = (name, f) => {
    f();
    const first = [];
    const steady = [];
    for (let i = 0; i < 7; i++) {
      global.gc();
      for (const into of [first, steady]) {
        const t0 = process.hrtime.bigint();
        f();
        into.push(Number(process.hrtime.bigint() - t0));
      }
    }
    const [a, b] = [median(first), median(steady)];
    console.log(
      `  ${name}: ${(a / 1e6).toFixed(1)} ms first after gc() vs ${(b / 1e6).toFixed(1)} ms the run after (medians of 7): ${(a / b).toFixed(2)}x (target <= 2x)`,
    );
  };
  console.log('first run after a forced full GC:');
  afterGc('countdown loop', vmLoop);
  afterGc('sieve', vmSieve(true));
  afterGc('counter', vmCounter(true));
  console.log(`  load ${load()}`);
}
qjs.dispose();
qjsRuntime.dispose();
