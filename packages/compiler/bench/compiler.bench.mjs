// Compiled-language benchmarks: recursive fib(27), a sieve of 1,000,000 and a loop
// over an array in a data page, each compiled from .kl source and run on the VM,
// beside the same algorithm in plain JavaScript and in QuickJS compiled to
// WebAssembly (quickjs-emscripten), all in this run. Read the ratios: the machine
// is shared. Run: pnpm bench.
import { loadavg } from 'node:os';
import { Machine } from '@keyvm/interpreter';
import { getQuickJS } from 'quickjs-emscripten';
import { compile } from '../dist/index.js';

const best = (runs, f) => {
  f();
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    f();
    min = Math.min(min, Number(process.hrtime.bigint() - t0));
  }
  return min / 1e6; // milliseconds
};

const CASES = [
  {
    name: 'recursive fib(27)',
    expect: 196418,
    kl: `def fib(int n) -> (int):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
print(fib(27))
`,
    js: `function fib(n) { return n < 2 ? n : (fib(n - 1) + fib(n - 2)) | 0; }`,
    call: 'fib(27)',
  },
  {
    name: 'sieve of 1,000,000',
    expect: 78498,
    kl: `def sieve(int n) -> (int):
    var int[] composite = array(n + 1)
    var int count = 0
    for i from 2 to n:
        if composite[i] == 0:
            count = count + 1
            if i <= n / i:
                var int j = i * i
                while j <= n:
                    composite[j] = 1
                    j = j + i
    return count
print(sieve(1000000))
`,
    js: `function sieve(n) { const c = new Int32Array(n + 1); let count = 0;
  for (let i = 2; i <= n; i++) { if (c[i] === 0) { count++; if (i <= Math.floor(n / i)) for (let j = i * i; j <= n; j += i) c[j] = 1; } }
  return count; }`,
    call: 'sieve(1000000)',
  },
  {
    name: 'array loop (10 passes over 100,000 words)',
    expect: 835401392,
    kl: `def run() -> (int):
    var int[] a = array(100000)
    for i from 0 to 99999:
        a[i] = i * 7
    var int sum = 0
    for round from 1 to 10:
        for i from 0 to 99999:
            sum = sum + a[i] * round
    return sum
print(run())
`,
    js: `function run() { const a = new Int32Array(100000); for (let i = 0; i < 100000; i++) a[i] = i * 7;
  let sum = 0; for (let p = 1; p <= 10; p++) for (let i = 0; i < 100000; i++) sum = (sum + Math.imul(a[i], p)) | 0;
  return sum; }`,
    call: 'run()',
  },
];

console.log(`load average at start: ${loadavg()[0].toFixed(2)} (other processes slow every figure)`);
const QuickJS = await getQuickJS();
for (const c of CASES) {
  const { program } = compile(c.kl, { file: 'bench.kl' });
  let out = '';
  const tVm = best(2, () => {
    const m = Machine.boot(program, { stackSize: 4096, devices: true, quantum: 1 << 30 });
    const r = m.run();
    if (r.status !== 'halted') throw new Error(`${c.name}: ${JSON.stringify(r)}`);
    out = m.output;
  });
  if (out !== `${c.expect}\n`) throw new Error(`${c.name}: printed ${out}`);
  const fn = new Function(`${c.js}\nreturn () => ${c.call};`)();
  let jsValue = 0;
  const tJs = best(5, () => {
    jsValue = fn();
  });
  if ((jsValue | 0) !== c.expect) throw new Error(`${c.name}: JS gave ${jsValue}`);
  const vm = QuickJS.newContext();
  let qjsValue = 0;
  const tQjs = best(2, () => {
    const r = vm.evalCode(`${c.js}\n${c.call};`);
    qjsValue = vm.unwrapResult(r).consume(vm.getNumber);
  });
  vm.dispose();
  if ((qjsValue | 0) !== c.expect) throw new Error(`${c.name}: QuickJS gave ${qjsValue}`);
  const ratio = tVm / tJs;
  console.log(`${c.name}:`);
  console.log(
    `  keyvm ${tVm.toFixed(1)} ms   plain JS ${tJs.toFixed(2)} ms   QuickJS-wasm ${tQjs.toFixed(1)} ms`,
  );
  console.log(
    `  keyvm/JS ${ratio.toFixed(1)}x (target <= 30x: ${ratio <= 30 ? 'met' : 'not met'})   ` +
      `keyvm/QuickJS ${(tVm / tQjs).toFixed(2)}x (target < 1: ${tVm < tQjs ? 'met, faster' : 'not met, slower'})`,
  );
}
console.log(`load average at end: ${loadavg()[0].toFixed(2)}`);
