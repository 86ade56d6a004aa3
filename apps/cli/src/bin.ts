#!/usr/bin/env node
// The `keyvm` executable: run the command line and set the exit code (never
// process.exit, so output still being written reaches its pipe).
import { main } from './main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`keyvm: internal error: ${String(e)}\n`);
    process.exitCode = 70;
  },
);
