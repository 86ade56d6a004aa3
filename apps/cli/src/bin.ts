#!/usr/bin/env node
// The `keyvm` executable: run the command line and set the exit code (never
// process.exit with output pending, so everything written reaches its pipe).
import { main } from './main.js';

// A reader that goes away early (`keyvm run … | head`) closes the pipe: stop
// quietly with the I/O exit code instead of an unhandled EPIPE and a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && stream !== process.stderr)
      process.stderr.write(`keyvm: cannot write: ${e.message}\n`);
    process.exit(5);
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`keyvm: internal error: ${String(e)}\n`);
    process.exitCode = 70;
  },
);
