#!/usr/bin/env node
// The `keyvm` executable: run the command line and set the exit code (never
// process.exit with output pending, so everything written reaches its pipe).
import { cleanUpOnInterrupt } from './io.js';
import { main } from './main.js';

// Ctrl-C or kill while an image or -o output is being written: remove its
// temporary file (the target is still the old file) and exit 130 / 143 / 129.
cleanUpOnInterrupt();

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
