// Benchmarks of the playground's logic (not tests): step back at the end of a 10M-step
// run; 10M steps through the History (sliced as the worker runs them, checkpoints
// included) against a plain run in Node; the graph model, ELK layout and page drawing of two
// 200-object machines. Prints the load average; ratios are within one run.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { assemble } from '@keyvm/assembler';
import { Machine } from '@keyvm/interpreter';
import ELK from 'elkjs/lib/elk.bundled.js';
import { graphOf } from '../out-tsc/src/logic/graph.js';
import { elkGraph, groupLeaves, warmUpGraph } from '../out-tsc/src/logic/graph-layout.js';
import { History } from '../out-tsc/src/logic/history.js';

const STEPS = 10_000_000;
const SLICE = 250_000;
const countdown = assemble(`
        PUSH ${Math.ceil(STEPS / 6)}
loop:   PUSH 1
        SUB
        DUP
        PUSH :loop
        SWAP
        JUMPIF
        HALT
`);
const boot = (jit) => Machine.boot(countdown, { jit });
const ms = (t0) => (performance.now() - t0).toFixed(1);

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

for (const jit of [false, true]) {
  let t0 = performance.now();
  const plain = boot(jit);
  const ran = plain.run({ maxSteps: STEPS });
  const plainMs = performance.now() - t0;
  if (ran.steps !== STEPS) throw new Error(`the countdown ran ${ran.steps} steps, not ${STEPS}`);

  t0 = performance.now();
  const h = new History({ origin: () => boot(jit), machineOptions: { jit } });
  while (h.position < STEPS) if (h.advance(Math.min(SLICE, STEPS - h.position)).reason !== 'limit') break;
  const histMs = performance.now() - t0;
  console.log(
    `10M steps, jit ${jit}: plain run ${plainMs.toFixed(0)} ms; through the History in ${SLICE}-step slices ${histMs.toFixed(0)} ms ` +
      `(${(histMs / plainMs).toFixed(2)}x; ${h.checkpointPositions.length} checkpoints every ${h.interval}, ${(h.checkpointBytes / 1024).toFixed(0)} KiB)`,
  );

  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    h.stepBack();
    times.push(performance.now() - t);
  }
  t0 = performance.now();
  h.seek(h.checkpointPositions.at(-1) - 1); // the worst case: a whole interval to replay
  const worst = performance.now() - t0;
  console.log(
    `step back at step ~10M (jit ${jit}): ${times.map((t) => t.toFixed(1)).join(', ')} ms; worst case (a whole interval replayed) ${worst.toFixed(1)} ms`,
  );
}

// Two machines of ~200 objects. The fan-out: 200 data pages, each key kept in one key page
// (the page packs 199 of them into a group). The tree: a chain of 33 key pages, each holding
// five data pages and the next key page (no fan-out to pack: 208 nodes for ELK's layered layout).
const lines = ['CREATEPAGE 15 1 1 200'];
for (let i = 0; i < 200; i++) lines.push('CREATEPAGE 16 0 1 4', `COPYKEY 15 ${i} 2 16`);
lines.push('HALT');
const treeLines = ['CREATEPAGE 15 1 1 8'];
for (let level = 0; level < 33; level++) {
  for (let i = 0; i < 5; i++) treeLines.push('CREATEPAGE 16 0 1 4', `COPYKEY 15 ${i} 2 16`);
  treeLines.push('CREATEPAGE 17 1 1 8', 'COPYKEY 15 5 2 17', 'COPYKEY 2 15 2 17');
}
treeLines.push('HALT');
const machines = [
  ['fan-out', lines],
  ['tree', treeLines],
];
// ELK with the page's own input and options: cold (a fresh engine that has laid out only a
// small graph, as the page's first draw does), then after the page's warm-up (6 rounds of 16
// to 60 machine-like objects), then warm.
const layoutMs = async (elk, graph) => {
  const t = performance.now();
  await elk.layout(elkGraph(graph));
  return performance.now() - t;
};
for (const [name, source] of machines) {
  const m = Machine.boot(assemble(source.join('\n')));
  m.run();
  let t0 = performance.now();
  const g = graphOf(m.store);
  const modelMs = ms(t0);
  const grouping = groupLeaves(g);
  const coldElk = new ELK();
  await layoutMs(coldElk, warmUpGraph(8));
  const coldMs = await layoutMs(coldElk, g);
  const warmedElk = new ELK();
  await layoutMs(warmedElk, warmUpGraph(8));
  t0 = performance.now();
  for (const size of [16, 24, 36, 48, 60, 60]) await layoutMs(warmedElk, warmUpGraph(size));
  const warmUpMs = ms(t0);
  const afterWarmUpMs = await layoutMs(warmedElk, g);
  const warm = [];
  for (let i = 0; i < 5; i++) warm.push(await layoutMs(warmedElk, g));
  console.log(
    `graph of the ${name} machine, ${g.nodes.length} objects and ${g.edges.length} keys (${grouping.groupOfNode.size} of them packed into ${grouping.groups.length} group(s)): ` +
      `model ${modelMs} ms; ELK layout (Node; the page adds the SVG) cold ${coldMs.toFixed(0)} ms, ` +
      `after the page's warm-up (${warmUpMs} ms in the background) ${afterWarmUpMs.toFixed(0)} ms, warm ${warm.map((x) => x.toFixed(0)).join(', ')} ms`,
  );
}

// The same 10M steps in the page (Debian Chromium, the worker, checkpoints included),
// timed from the run button to "halted"; and a 200-object machine's graph drawn there.
const CHROMIUM = '/usr/bin/chromium';
const { existsSync } = await import('node:fs');
const dist = new URL('../dist/index.html', import.meta.url);
if (!existsSync(CHROMIUM) || !existsSync(dist)) {
  console.log('page figures skipped: needs /usr/bin/chromium and a built site (pnpm web:build)');
} else {
  const { chromium } = await import('playwright-core');
  const { serveStatic } = await import('../out-tsc/test/serve.js');
  const { fileURLToPath } = await import('node:url');
  const { server, url } = await serveStatic(fileURLToPath(new URL('../dist/', import.meta.url)));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  const b64 = (s) => Buffer.from(s, 'utf8').toString('base64url');
  const src = `PUSH ${Math.ceil(STEPS / 6)}\nloop: PUSH 1\nSUB\nDUP\nPUSH :loop\nSWAP\nJUMPIF\nHALT\n`;
  await page.goto(`${url}#src=${b64(src)}&gas=&memory=`);
  await page
    .waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('step 0 '))
    .catch(async (e) => {
      console.log(`page status: ${await page.textContent('#status')}`);
      throw e;
    });
  // The page's own clock, from the click's command to the view that ends the move
  // (body[data-move-ms]): playwright's click and polling add tens to hundreds of ms.
  // Alternated with the same run in Node with the JIT (as `keyvm run` runs it; the page's
  // worker compiles too, its served policy allowing eval), so load hits both alike.
  // Node twice: in a fresh process (cold, as `keyvm run` is and as the page's new worker
  // is) and in this one (warm: the interpreter already optimised by the runs above).
  const { execFileSync } = await import('node:child_process');
  const coldNode = () =>
    Number(
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { assemble } from '@keyvm/assembler'; import { Machine } from '@keyvm/interpreter';
           const m = Machine.boot(assemble(${JSON.stringify(src)}), { jit: true });
           const t = performance.now(); m.run({ maxSteps: ${STEPS + 10} }); console.log(performance.now() - t);`,
        ],
        { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' },
      ),
    );
  const pageRuns = [];
  const nodeRuns = [];
  const coldRuns = [];
  for (let i = 0; i < 7; i++) {
    await page.goto('about:blank');
    await page.goto(`${url}#src=${b64(src)}&gas=&memory=`);
    await page.waitForFunction(() => document.body.dataset.drawn === '0', null, { timeout: 120_000 });
    await page.click('#run');
    // Polled every 250 ms, not every frame: playwright's per-frame polling would compete
    // with the worker for the CPU.
    await page.waitForFunction(
      () => document.getElementById('status')?.textContent?.includes('halted'),
      null,
      {
        timeout: 600_000,
        polling: 250,
      },
    );
    pageRuns.push(Number(await page.evaluate(() => document.body.dataset.moveMs)));
    const jitOn = await page.getAttribute('body', 'data-jit');
    if (jitOn !== 'on') throw new Error(`the page's machine ran without the JIT (data-jit=${jitOn})`);
    const plain = boot(true);
    const t = performance.now();
    plain.run({ maxSteps: STEPS + 10 });
    nodeRuns.push(performance.now() - t);
    coldRuns.push(coldNode());
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
  let t = performance.now();
  await page.click('#stepBack');
  await page.waitForFunction(() =>
    /^step \d+ · paused/.test(document.getElementById('status')?.textContent ?? ''),
  );
  const backMs = performance.now() - t;
  const backPage = Number(await page.evaluate(() => document.body.dataset.moveMs));
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `10M steps in the page (worker, jit on, checkpoints; click to view, page clock): ${fmt(pageRuns)} ms; ` +
      `plain in Node, jit on (as keyvm run), fresh process: ${fmt(coldRuns)} ms; warm, this process: ${fmt(nodeRuns)} ms; ` +
      `medians ${median(pageRuns).toFixed(0)} vs ${median(coldRuns).toFixed(0)} ms fresh (${(median(pageRuns) / median(coldRuns)).toFixed(2)}x), ` +
      `${median(nodeRuns).toFixed(0)} ms warm (${(median(pageRuns) / median(nodeRuns)).toFixed(2)}x); ` +
      `fastest ${Math.min(...pageRuns).toFixed(0)} vs ${Math.min(...coldRuns).toFixed(0)} ms fresh (${(Math.min(...pageRuns) / Math.min(...coldRuns)).toFixed(2)}x), ` +
      `${Math.min(...nodeRuns).toFixed(0)} ms warm (${(Math.min(...pageRuns) / Math.min(...nodeRuns)).toFixed(2)}x)`,
  );
  console.log(
    `step back there at ~10M: ${backPage.toFixed(0)} ms click to view (page clock), ${backMs.toFixed(0)} ms through playwright`,
  );
  // Each ~200-object machine's graph, run to drawn: clicking run as soon as the page shows
  // (the layout engine still cold, its warm-up under way), and once the warm-up is done; five
  // times each, medians. The page's clock (click to the graph drawn) splits into the move, the
  // other panes, ELK's layout with its queue and the SVG; playwright's polling adds to its total.
  const GRAPH_RUNS = 5;
  for (const [name, source] of machines) {
    for (const when of ['at once', 'after warm-up']) {
      const runs = [];
      for (let i = 0; i < GRAPH_RUNS; i++) {
        await page.goto('about:blank');
        await page.goto(`${url}#src=${b64(source.join('\n'))}`);
        await page.waitForFunction(() => document.body.dataset.drawn === '0');
        if (when !== 'at once')
          await page.waitForFunction(() => document.body.dataset.graphWarm === 'true', null, {
            timeout: 60_000,
          });
        await page.fill('#gas', '');
        t = performance.now();
        await page.click('#run');
        await page.waitForFunction(() => Number(document.body.dataset.drawn) > 0, null, { timeout: 120_000 });
        const total = performance.now() - t;
        const nodes = await page.locator('#graph .node').count();
        const d = await page.evaluate(() => ({ ...document.body.dataset }));
        const [elkMs, svgMs] = (d.graphMs ?? '').split(' ').map(Number);
        runs.push({
          nodes,
          total,
          drawn: Number(d.drawnMs),
          move: Number(d.moveMs),
          panes: Number(d.panesMs),
          elk: elkMs,
          svg: svgMs,
        });
      }
      const col = (k) => runs.map((r) => r[k]);
      const fmtCol = (k) => `${median(col(k)).toFixed(0)} (${fmt(col(k))})`;
      console.log(
        `graph of the ${name} machine (${runs[0].nodes} objects) in the page, run clicked ${when}, medians of ${GRAPH_RUNS} (each run): ` +
          `run to drawn by the page's clock ${fmtCol('drawn')} ms = run to view ${fmtCol('move')} + the other panes ${fmtCol('panes')} ` +
          `+ ELK layout with its queue ${fmtCol('elk')} + SVG ${fmtCol('svg')} ms; through playwright ${fmtCol('total')} ms; load ${loadavg()[0].toFixed(2)}`,
      );
    }
  }
  await browser.close();
  server.close();
}
