// Browser smoke test: bundle assembler + interpreter + image for the browser
// (esbuild), serve it from a loopback HTTP server under a strict Content Security
// Policy (no 'unsafe-eval'), and in Debian's Chromium (driven by playwright-core,
// never a downloaded browser) assemble, run part way, save an image, load it, run
// to the end. Checks the output, the image hash against Node's for the same bytes,
// that the JIT fell back to interpretation (the CSP refused code generation) and
// that the page saw no error. Run alone it bundles the workspace's own builds;
// packed-consumer.mjs runs it on the packages installed from their tarballs.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './workspace.mjs';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
export const CSP = "default-src 'none'; script-src 'self'; base-uri 'none'; form-action 'none'";
const SOURCE = readFileSync(join(ROOT, 'examples/hello.ism'), 'utf8');
const FIRST_STEPS = 25;

/** The program the page runs (and Node runs too, for the expected results). */
const APP = `
import { assemble } from '@keyvm/assembler';
import { Machine } from '@keyvm/interpreter';
import { decodeImage, encodeImage, imageHash } from '@keyvm/image';

export function scenario(source, firstSteps) {
  const program = assemble(source, { file: 'hello.ism' });
  const first = Machine.boot(program);
  const part = first.run({ maxSteps: firstSteps });
  const bytes = encodeImage(first.store);
  const second = new Machine(decodeImage(bytes));
  const rest = second.run();
  return {
    firstStatus: part.status,
    status: rest.status,
    output: first.output + second.output,
    stack: second.stack(),
    imageBytes: bytes.length,
    hash: imageHash(bytes),
    jitRefused: first.jitRefused?.name ?? null,
  };
}
`;

const PAGE_MAIN = `
import { scenario } from './scenario.js';
const out = document.getElementById('result');
let violations = 0;
document.addEventListener('securitypolicyviolation', () => violations++);
try {
  const source = document.getElementById('source').textContent;
  const result = scenario(source, ${FIRST_STEPS});
  // A violation event is dispatched asynchronously: let it arrive.
  await new Promise((resolve) => setTimeout(resolve, 50));
  out.textContent = JSON.stringify({ ...result, violations });
} catch (e) {
  out.textContent = JSON.stringify({ error: String(e && e.stack || e) });
}
out.dataset.done = '1';
`;

const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * Bundle and run the scenario in Chromium. `resolveDir`: where the @keyvm
 * packages are resolved from (a consumer project, or apps/cli in the workspace).
 */
export async function browserSmoke({ resolveDir = join(ROOT, 'apps/cli'), workDir, log = console.log } = {}) {
  const require = createRequire(join(ROOT, 'package.json'));
  const esbuild = require('esbuild');
  const { chromium } = require('playwright-core');
  const dir = workDir ?? join(tmpdir(), `keyvm-browser-${process.pid}`);
  const site = join(dir, 'site');
  await mkdir(site, { recursive: true });
  await writeFile(join(dir, 'scenario.js'), APP);
  await writeFile(join(dir, 'main.js'), PAGE_MAIN);

  // The expected results, from Node, with the same packages.
  const nodeBundle = join(dir, 'scenario.node.mjs');
  await esbuild.build({
    entryPoints: [join(dir, 'scenario.js')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: nodeBundle,
    nodePaths: [join(resolveDir, 'node_modules')],
    logLevel: 'error',
  });
  const expected = (await import(pathToFileURL(nodeBundle).href)).scenario(SOURCE, FIRST_STEPS);

  const built = await esbuild.build({
    entryPoints: [join(dir, 'main.js')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    outfile: join(site, 'app.js'),
    nodePaths: [join(resolveDir, 'node_modules')],
    metafile: true,
    logLevel: 'error',
  });
  const builtins = Object.keys(built.metafile.inputs).filter((f) =>
    /^node:|(^|\/)node_modules\/@types\/node\//.test(f),
  );
  if (builtins.length > 0)
    throw new Error(`the browser bundle pulls in Node modules: ${builtins.join(', ')}`);
  const html = `<!doctype html><meta charset="utf-8"><title>KeyVM smoke</title>
<pre id="source">${escapeHtml(SOURCE)}</pre><pre id="result"></pre>
<script type="module" src="app.js"></script>`;
  const files = {
    '/': ['text/html', html],
    '/app.js': ['text/javascript', readFileSync(join(site, 'app.js'))],
  };
  const server = createServer((req, res) => {
    const file = files[req.url ?? '/'];
    if (!file) {
      res.writeHead(404, { 'content-security-policy': CSP }).end();
      return;
    }
    res.writeHead(200, {
      'content-type': file[0],
      'content-security-policy': CSP,
      'cache-control': 'no-store',
    });
    res.end(file[1]);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
  try {
    const page = await browser.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Content Security Policy|unsafe-eval/.test(m.text()))
        pageErrors.push(m.text());
    });
    await page.goto(url);
    await page.waitForSelector('#result[data-done]', { timeout: 30_000 });
    const got = JSON.parse((await page.textContent('#result')) ?? '{}');
    const problems = [];
    if (got.error) problems.push(`the page threw: ${got.error}`);
    for (const field of ['firstStatus', 'status', 'output', 'stack', 'imageBytes', 'hash'])
      if (JSON.stringify(got[field]) !== JSON.stringify(expected[field]))
        problems.push(
          `${field}: browser ${JSON.stringify(got[field])}, Node ${JSON.stringify(expected[field])}`,
        );
    if (got.firstStatus !== 'paused' || got.status !== 'halted')
      problems.push(`statuses ${got.firstStatus} then ${got.status}, not paused then halted`);
    if (got.jitRefused !== 'EvalError')
      problems.push(`the JIT was not refused (jitRefused ${got.jitRefused}): is the CSP in force?`);
    if (got.violations !== 1)
      problems.push(`${got.violations} CSP violations reported, not exactly 1 (the one probe)`);
    if (pageErrors.length > 0) problems.push(`page errors: ${pageErrors.join('; ')}`);
    if (problems.length > 0) throw new Error(`browser smoke test failed:\n  ${problems.join('\n  ')}`);
    log(
      `browser smoke: Chromium ${browser.version()} under "${CSP}": assembled, ran ${FIRST_STEPS} steps, ` +
        `saved ${got.imageBytes} bytes (sha256 ${got.hash.slice(0, 12)}… as in Node), loaded, ran to ${got.status}; ` +
        `output ${JSON.stringify(got.output)}; JIT refused (EvalError), interpreted`,
    );
    return got;
  } finally {
    await browser.close();
    server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  browserSmoke().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
