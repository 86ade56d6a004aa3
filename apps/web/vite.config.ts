// Vite build of the playground: a static site (dist/) over the packages' TypeScript
// sources (the `@keyvm/source` export condition), the machine in an ES module worker.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const shim = (name: string) => fileURLToPath(new URL(`./src/shims/${name}.ts`, import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: {
    conditions: ['@keyvm/source', 'browser', 'module', 'import', 'default'],
    // TEMPORARY (until the `packages` branch, which makes @keyvm/image's main entry
    // platform-neutral, is merged): @keyvm/image still imports node:crypto, node:os
    // and node:zlib in its codec and node:fs/path in its file helpers. These aliases
    // give the browser plain-ECMAScript stand-ins. Remove them, src/shims/ and the
    // Buffer stand-in in src/worker.ts once `git log main` shows that merge.
    alias: {
      'node:crypto': shim('node-crypto'),
      'node:os': shim('node-os'),
      'node:zlib': shim('node-zlib'),
      'node:fs/promises': shim('node-fs'),
      'node:fs': shim('node-fs'),
      'node:path': shim('node-path'),
    },
  },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4000 },
  server: { host: '127.0.0.1', fs: { allow: ['../..'] } },
  preview: { host: '127.0.0.1' },
});
