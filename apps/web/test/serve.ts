// A loopback-only static server for the built playground, with a strict Content
// Security Policy (no 'unsafe-eval', no inline scripts) for the page and one that also
// allows 'unsafe-eval' for the machine worker's script only (the JIT): used by the e2e
// tests, like `keyvm debug`'s server.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

export const STRICT_CSP =
  "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The machine worker's policy: a dedicated worker loaded from a URL is governed by the
 * policy of its own response (the page's does not reach it), so this lets the worker, and
 * only it, compile the JIT's code; it may load its own scripts and fetch nothing.
 */
export const WORKER_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-eval'; connect-src 'none'; base-uri 'none'";

/** The built machine worker (`src/worker.ts`, named by Vite `worker-HASH.js`); not elk's. */
export const WORKER_PATH = /^\/assets\/worker-[\w-]+\.js$/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/**
 * Serve `root` on 127.0.0.1 (a free port); resolves with the server and its base URL.
 * `policies`: 'split' (the default) serves the worker its own policy with 'unsafe-eval',
 * 'strict' serves every file the page's policy (the machine interprets), 'none' sends no
 * policy header at all, as a plain static host (the page keeps its meta-tag policy).
 */
export function serveStatic(
  root: string,
  options: { policies?: 'split' | 'strict' | 'none' } = {},
): Promise<{ server: Server; url: string }> {
  const policies = options.policies ?? 'split';
  const base = resolve(root) + sep;
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(base, path === '/' ? 'index.html' : path));
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      ...(policies === 'none'
        ? {}
        : {
            'content-security-policy':
              policies === 'split' && WORKER_PATH.test(path) ? WORKER_CSP : STRICT_CSP,
          }),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/` });
    });
  });
}
