// End-to-end: the built playground in Debian Chromium (playwright-core, never a
// downloaded browser), served from loopback under a strict CSP. Screenshots of the
// main views go to apps/web/test-results/ (kept by CI as artifacts).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '@keyvm/assembler';
import { compile } from '@keyvm/compiler';
import { stateLength } from '@keyvm/image';
import { Machine } from '@keyvm/interpreter';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from './serve.js';

const CHROMIUM = '/usr/bin/chromium';
const HERE = fileURLToPath(new URL('..', import.meta.url));
const REPO = join(HERE, '..', '..');
const DIST = join(HERE, 'dist');
const SHOTS = join(HERE, 'test-results');
const CLI = join(REPO, 'apps', 'cli', 'dist', 'bin.js');
const HELLO = readFileSync(join(REPO, 'examples', 'hello.ism'), 'utf8');
const PING_PONG = readFileSync(join(REPO, 'examples', 'ping-pong.ism'), 'utf8');
const FIB = readFileSync(join(REPO, 'examples', 'fib.kl'), 'utf8');

/** Whether dist/ is missing or older than the newest file of src/, index.html or a package's src/ it bundles. */
function staleSite(): boolean {
  const built = join(DIST, 'index.html');
  if (!existsSync(built)) return true;
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  const packages = join(REPO, 'packages');
  const sources = readdirSync(packages).map((p) => join(packages, p, 'src'));
  return (
    Math.max(
      newest(join(HERE, 'src')),
      statSync(join(HERE, 'index.html')).mtimeMs,
      ...sources.filter((d) => existsSync(d)).map(newest),
    ) > statSync(built).mtimeMs
  );
}

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.log(`web e2e: skipped: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`);

const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe.skipIf(!haveChromium)('playground in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let base: string;
  let page: Page;
  let tmp: string;
  const problems: string[] = [];

  beforeAll(async () => {
    // The site is built by `pnpm web:build`; build it here when it is missing or older than a source.
    if (staleSite()) execFileSync('npx', ['vite', 'build'], { cwd: HERE, stdio: 'ignore' });
    if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-b'], { cwd: REPO, stdio: 'ignore' });
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'keyvm-web-e2e-'));
    ({ server, url: base } = await serveStatic(DIST));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1500, height: 950 },
    });
    page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
      );
    });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const statusAt = (step: number, what = '') =>
    page.waitForFunction(
      ([n, w]) => {
        const s = document.getElementById('status')?.textContent ?? '';
        return s.startsWith(`step ${n} `) && s.includes(w as string);
      },
      [step, what] as const,
      { timeout: 20_000 },
    );
  const click = (id: string) => page.click(`#${id}`);
  /** A fresh page load (a hash change alone would keep the old page). */
  const open = async (url: string) => {
    await page.goto('about:blank');
    await page.goto(url);
  };
  const texts = (sel: string) => page.locator(sel).allTextContents();

  it('loads an example, steps three times (pc, stack, line) and steps back twice', async () => {
    await page.goto(base);
    await page.selectOption('#examples', { label: 'hello.ism' });
    await statusAt(0);
    for (let i = 1; i <= 3; i++) {
      await click('step');
      await statusAt(i);
    }
    const program = assemble(HELLO);
    const m = Machine.boot(program, { time: 10_000_000, memory: 16 * 1024 * 1024 });
    m.run({ maxSteps: 3 });
    const d = m.domain(m.rootDomain);
    expect(await page.textContent('#registers')).toContain(`ip ${d.ip}`);
    expect(await texts('#stack li')).toEqual(m.stack().map(String));
    const line = program.sourceMap.find((e) => e.pc === d.ip)!.line;
    expect((await page.textContent('.cm-current-line'))?.trim()).toBe(HELLO.split('\n')[line - 1]!.trim());
    expect(await page.textContent('#disasm li.pc')).toMatch(new RegExp(`^0*${d.ip}:`));
    await page.screenshot({ path: join(SHOTS, 'step.png') });

    // The machine as an image, downloaded: bit for bit the state the CLI saves after 3 steps
    // (the CLI adds the program's debug section after it, outside the image hash).
    const [download] = await Promise.all([page.waitForEvent('download'), click('download')]);
    const saved = join(tmp, 'web-3.kvmi');
    await download.saveAs(saved);
    const cliSaved = join(tmp, 'cli-3.kvmi');
    expect(
      cli('run', join(REPO, 'examples', 'hello.ism'), '--max-steps', '3', '--save', cliSaved, '-q').status,
    ).toBe(7);
    const cliBytes = readFileSync(cliSaved);
    // Both carry a debug section after the state (the program's, for names), outside the hash.
    const webBytes = readFileSync(saved);
    expect(sha256(webBytes.subarray(0, stateLength(webBytes)))).toBe(
      sha256(cliBytes.subarray(0, stateLength(cliBytes))),
    );
    const a = JSON.parse(cli('resume', saved, '--json', '--save', join(tmp, 'a.kvmi')).stdout);
    const b = JSON.parse(cli('resume', cliSaved, '--json', '--save', join(tmp, 'b.kvmi')).stdout);
    expect(a.status).toBe('halted');
    expect(a.imageHash).toBe(b.imageHash);

    await click('stepBack');
    await statusAt(2);
    await click('stepBack');
    await statusAt(1);
    const m1 = Machine.boot(program, { time: 10_000_000, memory: 16 * 1024 * 1024 });
    m1.run({ maxSteps: 1 });
    expect(await texts('#stack li')).toEqual(m1.stack().map(String));
    expect(await page.textContent('#registers')).toContain(`ip ${m1.domain(m1.rootDomain).ip}`);
  });

  it('runs to a breakpoint and back', async () => {
    const lines = HELLO.split('\n');
    const bp = lines.findIndex((l) => /^\s+DEVICE\b/.test(l)) + 1;
    await open(`${base}#src=${b64url(HELLO)}&bp=${bp}`);
    await statusAt(0);
    await click('run');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('condition'));
    expect((await page.textContent('.cm-current-line'))?.trim()).toBe(lines[bp - 1]!.trim());
    const first = await page.textContent('#status');
    await click('run');
    await page.waitForFunction((s) => document.getElementById('status')?.textContent !== s, first);
    expect(await page.textContent('#console')).toBe('H');
    await click('runBack');
    await page.waitForFunction(
      (s) => document.getElementById('status')?.textContent?.split(' · ')[0] === s?.split(' · ')[0],
      first,
    );
    expect(await page.textContent('#console')).toBe('');
  });

  it('shows a fault with its source line', async () => {
    await open(`${base}#src=${b64url('PUSH 7\nPUSH 0\n; divide\nDIV\nHALT\n')}`);
    await statusAt(0);
    await click('run');
    await page.waitForFunction(() =>
      document.getElementById('fault')?.textContent?.includes('division-by-zero'),
    );
    expect(await page.textContent('#fault')).toContain('line 4');
    await page.screenshot({ path: join(SHOTS, 'fault.png') });
    // The slot a fault is about, from the faulting instruction's operands.
    await open(`${base}#src=${b64url('PAGEWRITE 4 1 2\nHALT\n')}`);
    await statusAt(0);
    await click('run');
    await page.waitForFunction(() => document.getElementById('fault')?.textContent?.includes('wrong-kind'));
    expect(await page.textContent('#fault')).toContain('line 1, slot 1:');
    expect(await page.textContent('#fault')).toContain('operands: slot 1 (MEMORY)');
  });

  it('names a faulting domain by the label it starts at, after a step back too, and in its download', async () => {
    // The root domain (entered at `main`) makes a domain entered at `worker`, which divides by zero.
    const CHILD = [
      'main:   CREATEPAGE 15 PAGE_KEYS MEMORY DOMAIN_SLOTS',
      '        CREATEPAGE 16 PAGE_DATA MEMORY 64',
      '        COPYKEY 15 STACK SELF 16',
      '        ATTENUATE 15 CODE SELF CODE READ_ONLY',
      '        COPYKEY 15 TIME SELF TIME',
      '        NUMKEY 20 :worker',
      '        COPYKEY 15 IP SELF 20',
      '        MAKEDOMAIN 21 15',
      '        CALLW 21 27 21',
      '        HALT',
      'worker: PUSH 1',
      '        PUSH 0',
      '        DIV',
      '        HALT',
    ].join('\n');
    await open(`${base}#src=${b64url(`${CHILD}\n`)}`);
    await statusAt(0);
    expect(await page.textContent('#registers')).toMatch(/^domain main #\d+ /);
    // A step and a step back first: the run goes on from a machine rebuilt from the
    // origin's checkpoint, which must record the domains it makes too.
    await click('step');
    await statusAt(1);
    await click('stepBack');
    await statusAt(0);
    await click('run');
    await page.waitForFunction(() =>
      document.getElementById('fault')?.textContent?.includes('division-by-zero'),
    );
    const fault = (await page.textContent('#fault')) ?? '';
    expect(fault).toMatch(/in domain worker #\d+, line 13/);
    // The graph names the domains too.
    await page.waitForFunction(() =>
      document.getElementById('graph')?.textContent?.includes('domain worker #'),
    );
    expect(await page.locator('#graph .node', { hasText: 'domain main #' }).count()).toBe(1);
    const at = Number(/^step (\d+) /.exec((await page.textContent('#status')) ?? '')![1]);
    // Back before the fault: the machine is rebuilt from a checkpoint and replayed,
    // and the domain made on the way is named again.
    await click('stepBack');
    await statusAt(at - 1);
    expect(await page.textContent('#registers')).toMatch(/^domain worker #\d+ /);
    // A fault takes no step: the machine stops at the DIV, one step on, and faults there again.
    await click('step');
    await statusAt(at);
    expect(await page.textContent('#fault')).toBe('');
    await click('step');
    await page.waitForFunction(() =>
      document.getElementById('fault')?.textContent?.includes('division-by-zero'),
    );
    expect(await page.textContent('#fault')).toBe(fault);
    expect(await page.textContent('#status')).toMatch(new RegExp(`^step ${at} · fault`));
    // Downloaded with the debug section: the CLI names the domain when it resumes.
    await click('stepBack');
    await statusAt(at - 1);
    const [download] = await Promise.all([page.waitForEvent('download'), click('download')]);
    const saved = join(tmp, 'named.kvmi');
    await download.saveAs(saved);
    const resumed = cli('resume', saved);
    expect(resumed.status).toBe(1);
    expect(resumed.stderr).toMatch(/fault: division-by-zero in domain worker #\d+/);
    // A root domain that faults is the root domain, by its label.
    await open(`${base}#src=${b64url('main: PUSH 7\n      PUSH 0\n      DIV\n')}`);
    await statusAt(0);
    await click('run');
    await page.waitForFunction(() =>
      document.getElementById('fault')?.textContent?.includes('division-by-zero'),
    );
    expect(await page.textContent('#fault')).toMatch(/in the root domain main #\d+, line 3/);
  });

  it('draws the capability graph and highlights what a COPYKEY changed', async () => {
    await open(`${base}#src=${b64url('CREATEPAGE 15 0 1 4\nCOPYKEY 2 16 2 15\nHALT\n')}`);
    await statusAt(0);
    await page.waitForFunction(() => document.body.dataset.drawn === '0');
    expect(await page.locator('#graph .node').count()).toBe(9);
    for (let i = 1; i <= 5; i++) {
      await click('step');
      await statusAt(i);
    }
    await page.waitForFunction(() => document.body.dataset.drawn === '5');
    expect(await page.locator('#graph .node').count()).toBe(10);
    const edges = await page.locator('#graph .edge').count();
    for (let i = 6; i <= 10; i++) {
      await click('step');
      await statusAt(i);
    }
    await page.waitForFunction(() => document.body.dataset.drawn === '10');
    expect(await page.locator('#graph .edge').count()).toBe(edges + 1);
    expect(await page.locator('#graph .edge.changed').getAttribute('data-edge')).toMatch(/:16$/);
    await page.screenshot({ path: join(SHOTS, 'graph.png') });
  });

  it('opens an image saved by the CLI and continues it to the state the CLI reaches', async () => {
    const at20 = join(tmp, 'cli-20.kvmi');
    expect(
      cli('run', join(REPO, 'examples', 'sandbox.ism'), '--max-steps', '20', '--save', at20, '-q').status,
    ).toBe(7);
    const end = JSON.parse(cli('resume', at20, '--json', '--save', join(tmp, 'cli-end.kvmi')).stdout);
    await open(base);
    await statusAt(0);
    await page.setInputFiles('#open', at20);
    await page.waitForFunction(() => document.getElementById('disasm')?.children.length !== 0);
    await statusAt(0, 'paused');
    await click('run');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('halted'));
    expect(await page.textContent('#console')).toBe(end.output);
    expect(await texts('#stack li')).toEqual(end.stack.map(String));
    const [download] = await Promise.all([page.waitForEvent('download'), click('download')]);
    const saved = join(tmp, 'web-end.kvmi');
    await download.saveAs(saved);
    const webEnd = readFileSync(saved);
    expect(sha256(webEnd.subarray(0, stateLength(webEnd)))).toBe(end.imageHash);
  });

  it('opens the file `keyvm debug FILE` serves (assembly, and .kl in its own mode)', async () => {
    for (const [file, text, language] of [
      ['sandbox.ism', 'sandbox.ism - a parent runs untrusted code', 'assembly'],
      ['fib.kl', 'fib.kl - recursion', 'kl'],
    ] as const) {
      const child = spawn(process.execPath, [CLI, 'debug', join(REPO, 'examples', file)], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString('utf8');
            if (out.includes('\n')) resolve(out.split('\n')[0]!);
          });
          child.once('exit', (code) => reject(new Error(`keyvm debug exited ${code}`)));
        });
        await open(url);
        await statusAt(0);
        expect(await page.textContent('.cm-content')).toContain(text);
        expect(await page.getAttribute('body', 'data-language')).toBe(language);
      } finally {
        child.kill('SIGTERM');
      }
    }
  });

  /** Put the editor's cursor at the start of 1-based `line` (keyboard only: lines off screen are not drawn). */
  const cursorTo = async (line: number) => {
    await page.click('.cm-content');
    await page.keyboard.press('Control+Home');
    for (let i = 1; i < line; i++) await page.keyboard.press('ArrowDown');
  };
  const currentLine = async () => (await page.textContent('.cm-current-line'))?.trim();

  it('runs to the cursor, then steps over a CALLW (the callee runs, the caller is next)', async () => {
    const lines = PING_PONG.split('\n');
    const callw = lines.findIndex((l) => /^\s+CALLW\s/.test(l)) + 1;
    await open(`${base}#src=${b64url(PING_PONG)}`);
    await statusAt(0);
    await cursorTo(callw);
    await click('runToCursor');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('condition'));
    expect(await currentLine()).toBe(lines[callw - 1]!.trim());
    const registers = (await page.textContent('#registers'))!;
    const domain = /domain #(\d+)/.exec(registers)![1];
    const at = Number(/^step (\d+)/.exec((await page.textContent('#status'))!)![1]);
    expect(await page.textContent('#console')).toBe('ping 0\n');
    await click('stepOver');
    await page.waitForFunction(
      (n) => Number(/^step (\d+)/.exec(document.getElementById('status')?.textContent ?? '')?.[1]) > n,
      at,
    );
    // The callee (pong) printed its line and answered; ping's next line is the current one.
    const full = cli('run', join(REPO, 'examples', 'ping-pong.ism'), '-q').stdout;
    expect(await page.textContent('#console')).toBe(
      full.slice(0, full.indexOf('\n', full.indexOf('pong')) + 1),
    );
    expect(await currentLine()).toBe(lines[callw]!.trim());
    expect(await page.textContent('#registers')).toContain(`domain #${domain} `);
    const after = Number(/^step (\d+)/.exec((await page.textContent('#status'))!)![1]);
    expect(after).toBeGreaterThan(at + 1);
    // And back: one step back lands inside pong, the callee (RETURN was its last move).
    await click('stepBack');
    await statusAt(after - 1);
    expect(await page.textContent('#registers')).not.toContain(`domain #${domain} `);
  });

  it('pauses a long run and goes on stepping from where it stopped', async () => {
    await open(`${base}#src=${b64url('loop: PUSH 1\nDROP\nJUMP :loop\n')}&gas=&memory=`);
    await statusAt(0);
    await click('run');
    await page.waitForFunction(
      () => document.getElementById('status')?.textContent?.startsWith('running…'),
      null,
      {
        timeout: 60_000,
      },
    );
    await click('pause');
    await page.waitForFunction(
      () => /^step \d+ · paused/.test(document.getElementById('status')?.textContent ?? ''),
      null,
      {
        timeout: 60_000,
      },
    );
    const paused = Number(/^step (\d+)/.exec((await page.textContent('#status'))!)![1]);
    expect(paused).toBeGreaterThan(0);
    await click('step');
    await statusAt(paused + 1);
    expect(await page.textContent('#registers')).toContain('state running');
  });

  it("edits, checks and steps a .kl program: highlighting, the compiler's diagnostics, its source lines", async () => {
    await open(base);
    await statusAt(0);
    await page.selectOption('#examples', { label: 'fib.kl' });
    await page.waitForFunction(() => document.querySelector('.cm-content')?.textContent?.includes('def fib'));
    await statusAt(0);
    expect(await page.getAttribute('body', 'data-language')).toBe('kl');
    expect(page.url()).toContain('lang=kl');
    // Highlighted: keywords are tokens of their own (the plain text is not wrapped).
    expect(await page.locator('.cm-line span', { hasText: /^def$/ }).count()).toBeGreaterThan(0);
    expect(await page.locator('.cm-line span', { hasText: /^return$/ }).count()).toBeGreaterThan(0);
    const result = compile(FIB, { file: 'playground.kl' });
    const m = Machine.boot(result.program, { time: 10_000_000, memory: 16 * 1024 * 1024 });
    for (let i = 1; i <= 3; i++) {
      await click('step');
      await statusAt(i);
    }
    m.run({ maxSteps: 3 });
    const ip = m.domain(m.store.kernel.active || m.rootDomain).ip;
    const line = result.sourceMap.filter((e) => e.pc <= ip).at(-1)!.line;
    expect(await currentLine()).toBe(FIB.split('\n')[line - 1]!.trim());
    await click('run');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('halted'));
    expect(await page.textContent('#console')).toBe(
      cli('run', join(REPO, 'examples', 'fib.kl'), '-q').stdout,
    );
    await page.screenshot({ path: join(SHOTS, 'kl.png') });

    // The permalink keeps the language; a compile error shows the CLI's message, live and on load.
    const broken = 'var int x = 1\nprint(x + y)\n';
    const file = join(tmp, 'broken.kl');
    writeFileSync(file, broken);
    const cliRun = cli('run', file);
    expect(cliRun.status).toBe(4);
    const message = /broken\.kl:2:11: error: (.*)/.exec(cliRun.stderr)![1]!;
    await open(`${base}#src=${b64url(broken)}&lang=kl`);
    await page.waitForSelector('.cm-lintRange-error', { timeout: 20_000 });
    expect(await page.getAttribute('body', 'data-language')).toBe('kl');
    await page.hover('.cm-lintRange-error');
    await page.waitForSelector('.cm-tooltip-lint');
    expect(await page.textContent('.cm-tooltip-lint')).toContain(message);
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('error:'));
    expect(await page.textContent('#status')).toContain(`playground.kl:2:11: error: ${message}`);
  });

  it('scrolls a 4M-word page (only the rows in sight drawn) to its last word', async () => {
    const src = 'CREATEPAGE 16 0 1 4000000\nPAGEWRITE 4242 16 3999999\nPAGEWRITE 7 16 5\nHALT\n';
    await open(`${base}#src=${b64url(src)}&memory=`);
    await statusAt(0);
    await click('run');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('halted'));
    await page.click('#slots tr.link:has-text("16 ")');
    await page.waitForFunction(() => document.getElementById('page')?.dataset.size === '4000000');
    expect(await page.textContent('#page-title')).toContain('4000000 words');
    expect(await page.textContent('#page-rows span[data-index="5"]')).toBe('57');
    expect(await page.locator('#page-rows span').count()).toBeLessThan(1000);
    await page.$eval('#page', (e) => {
      e.scrollTop = e.scrollHeight;
    });
    await page.waitForFunction(
      () => document.querySelector('#page-rows span[data-index="3999999"]')?.textContent === '39999994242',
    );
    await page.$eval('#page', (e) => {
      e.scrollTop = e.scrollHeight / 2;
    });
    await page.waitForFunction(() => {
      const first = Number(document.querySelector('#page-rows span')?.getAttribute('data-index'));
      return (
        first > 1_900_000 &&
        first < 2_100_000 &&
        !document.getElementById('page-rows')?.textContent?.includes('…')
      );
    });
    expect(await page.locator('#page-rows span').count()).toBeLessThan(1000);
  });

  it('runs the machine with the JIT: only the worker script may compile code, the page may not', async () => {
    await open(`${base}#src=${b64url(HELLO)}`);
    await statusAt(0);
    await click('run');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('halted'));
    expect(await page.getAttribute('body', 'data-jit')).toBe('on');
    expect(await page.getAttribute('#status', 'title')).toContain('JIT');
    // The policies as served: 'unsafe-eval' for the machine worker's script alone.
    const worker = readdirSync(join(DIST, 'assets')).filter((f) => /^worker-[\w-]+\.js$/.test(f));
    expect(worker).toHaveLength(1);
    const policy = async (path: string) =>
      (await fetch(new URL(path, base), { method: 'HEAD' })).headers.get('content-security-policy') ?? '';
    expect(await policy(`assets/${worker[0]}`)).toMatch(
      /script-src 'self' 'unsafe-eval'.*connect-src 'none'/,
    );
    const others = readdirSync(join(DIST, 'assets'))
      .filter((f) => f !== worker[0])
      .map((f) => `assets/${f}`);
    for (const path of ['', 'index.html', ...others]) {
      expect(await policy(path)).toContain("script-src 'self';");
      expect(await policy(path)).not.toContain('unsafe-eval');
    }
    expect(readFileSync(join(DIST, 'index.html'), 'utf8')).not.toContain('unsafe-eval');
  });

  it.each([
    ['interprets, silently, where the worker too is refused eval', 'strict', 'off'],
    ['compiles on a static host that sends no policy header (the page keeps its meta tag)', 'none', 'on'],
  ] as const)('%s (the same results)', async (_, policies, jit) => {
    const other = await serveStatic(DIST, { policies });
    try {
      await open(`${other.url}#src=${b64url(HELLO)}`);
      await statusAt(0);
      await click('run');
      await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('halted'));
      expect(await page.getAttribute('body', 'data-jit')).toBe(jit);
      expect(await page.textContent('#console')).toBe(cli('run', join(REPO, 'examples', 'hello.ism')).stdout);
    } finally {
      other.server.close();
    }
  });

  it('ran under the strict CSP without errors or violations', () => {
    expect(problems).toEqual([]);
  });
});
