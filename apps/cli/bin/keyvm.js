#!/usr/bin/env node
// The installed `keyvm` command: a committed launcher for the built CLI in dist/
// (so package managers can link it before the build), with a clear message when unbuilt.
const built = new URL('../dist/bin.js', import.meta.url);
try {
  await import(built.href);
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/bin.js')) throw e;
  process.stderr.write(
    'keyvm: the command is not built yet: run `npx -y pnpm@10.34.8 install --frozen-lockfile` (or `npx tsc -b`) in the repository\n',
  );
  process.exitCode = 70;
}
