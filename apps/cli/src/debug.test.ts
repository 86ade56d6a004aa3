// `keyvm debug FILE` through the real spawned command: serves the built playground on
// loopback, prints the URL, serves FILE for the page to open; bad input is refused.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SITE = join(REPO, 'apps', 'web', 'dist', 'index.html');
const HELLO = join(REPO, 'examples', 'hello.ism');

let child: ChildProcess | null = null;
afterEach(() => {
  child?.kill('SIGTERM');
  child = null;
});

function firstLine(c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    c.once('exit', (code) => reject(new Error(`exited ${code} before printing a URL`)));
  });
}

describe('keyvm debug', () => {
  it('refuses stdin (the page must fetch the file)', () => {
    const r = spawnSync(process.execPath, [BIN, 'debug', '-'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/file path/);
  });

  it.skipIf(!existsSync(SITE))(
    'serves the playground and FILE on 127.0.0.1 under a strict CSP (the JIT for the worker only)',
    async () => {
      child = spawn(process.execPath, [BIN, 'debug', HELLO], { stdio: ['ignore', 'pipe', 'pipe'] });
      const url = await firstLine(child);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#open=__keyvm\/open&kind=source&name=/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
      expect(page.headers.get('content-security-policy')).not.toContain('unsafe-eval');
      // The machine worker's script alone may compile code (the JIT); elk's worker and the rest may not.
      const assets = readdirSync(join(REPO, 'apps', 'web', 'dist', 'assets')).filter((f) =>
        f.endsWith('.js'),
      );
      const policyOf = async (f: string) =>
        (await fetch(new URL(`/assets/${f}`, url))).headers.get('content-security-policy') ?? '';
      const worker = assets.filter((f) => /^worker-[\w-]+\.js$/.test(f));
      expect(worker).toHaveLength(1);
      expect(await policyOf(worker[0]!)).toMatch(/script-src 'self' 'unsafe-eval'.*connect-src 'none'/);
      for (const f of assets.filter((f) => f !== worker[0]))
        expect(await policyOf(f)).toContain("script-src 'self';");
      expect(await page.text()).toContain('KeyVM playground');
      const file = await fetch(new URL('/__keyvm/open', url));
      expect(await file.text()).toContain('Hello, KeyVM!');
      expect((await fetch(new URL('/../../package.json', url))).status).toBe(404);
      const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    },
  );
});
