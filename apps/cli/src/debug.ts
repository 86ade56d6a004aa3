// `keyvm debug FILE`: serve the built playground (apps/web/dist) on loopback only,
// print its URL and open FILE in it (assembly source, a .kvm program shown as flat
// assembly, or an image to continue). Serves until interrupted.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { disassembleProgram } from '@keyvm/assembler';
import { CliError, ExitCode, usageError } from './errors.js';
import { loadInput } from './io.js';

/** The playground page's own policy: no inline or generated scripts. */
const CSP =
  "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The machine worker's policy: a dedicated worker loaded from a URL is governed by the
 * policy of its own response, not the page's, so this lets the worker alone compile the
 * JIT's code (`new Function`); it may load its own scripts and fetch nothing (the page
 * reads the policy for it). The worker is Vite's `assets/worker-HASH.js` (elk's is elk-worker.*).
 */
const WORKER_CSP = "default-src 'none'; script-src 'self' 'unsafe-eval'; connect-src 'none'; base-uri 'none'";
const WORKER_PATH = /^\/assets\/worker-[\w-]+\.js$/;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Where the built site is: apps/web/dist beside this package in the monorepo. */
export const SITE_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface DebugFlags {
  port?: number;
}

export async function debugCommand(file: string, flags: DebugFlags): Promise<ExitCode> {
  if (file === '-') throw usageError('debug needs a file path (the page fetches it), not - for stdin');
  if (!existsSync(join(SITE_DIR, 'index.html')))
    throw new CliError(
      ExitCode.io,
      `the playground is not built (no ${join(SITE_DIR, 'index.html')}): run pnpm web:build first`,
    );
  const input = await loadInput(file);
  let body: Uint8Array;
  let kind: 'source' | 'image';
  if (input.kind === 'image') {
    body = input.bytes;
    kind = 'image';
  } else if (input.kind === 'kvm') {
    body = new TextEncoder().encode(disassembleProgram(input.program));
    kind = 'source';
  } else {
    body = readFileSync(file);
    kind = 'source';
  }
  const base = resolve(SITE_DIR) + sep;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const headers = {
      'content-security-policy': WORKER_PATH.test(path) ? WORKER_CSP : CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    };
    if (path === '/__keyvm/open') {
      res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream' }).end(body);
      return;
    }
    let local: string;
    try {
      local = normalize(join(base, decodeURIComponent(path === '/' ? '/index.html' : path)));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (!local.startsWith(base) || !existsSync(local) || !statSync(local).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': TYPES[extname(local)] ?? 'application/octet-stream' });
    createReadStream(local).pipe(res);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new CliError(ExitCode.io, `cannot listen on 127.0.0.1:${flags.port ?? 0}: ${e.message}`)),
    );
    server.listen(flags.port ?? 0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const name = encodeURIComponent(input.name);
  process.stdout.write(`http://127.0.0.1:${port}/#open=__keyvm/open&kind=${kind}&name=${name}\n`);
  process.stderr.write('keyvm: serving the playground on loopback only; Ctrl-C stops it\n');
  await new Promise<void>((resolve) => {
    const stop = () => {
      server.close();
      server.closeAllConnections();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return ExitCode.ok;
}
