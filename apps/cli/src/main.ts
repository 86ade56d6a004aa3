// The `keyvm` program: verbs, flags and help (commander), and the one place that
// turns every outcome into an exit code and every error into one message on stderr.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { asmCommand, disasmCommand } from './asm.js';
import { debugCommand } from './debug.js';
import { type CliError, ExitCode, toCliError, usageError } from './errors.js';
import { DEFAULT_MAX_NODES, graphCommand } from './graph.js';
import { DEFAULT_MAX_INPUT, parseByteSize, setMaxInput } from './input-limits.js';
import { inspectCommand } from './inspect.js';
import { colourFor, paint } from './io.js';
import { buildCommand } from './lang.js';
import { opsCommand } from './ops.js';
import { RUN_DEFAULTS, type RunFlags, resumeCommand, runCommand } from './run.js';

/** This package's version, read from its package.json (next to src/ and dist/). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** A whole-number flag value: digits, optionally grouped with `_` (10_000_000), at most 2^53-1. */
const whole =
  (min: number) =>
  (value: string): number => {
    const n = /^\d+(_\d+)*$/.test(value) ? Number(value.replace(/_/g, '')) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(
        `expected a whole number from ${min} to ${Number.MAX_SAFE_INTEGER.toLocaleString('en-US')} (2^53-1)`,
      );
    return n;
  };

const EXIT_HELP = `
Exit codes:
  0  halted (or the verb succeeded)     4  malformed input (assembly, .kvm or image)
  1  fault no keeper handled            5  I/O error
  2  usage error                        6  waiting for input (extension)
  3  out of gas                         7  paused by --max-steps (extension)
 70  internal error (a bug in keyvm; KEYVM_DEBUG=1 prints its stack trace)
130  interrupted by Ctrl-C (143: SIGTERM): the run stops at an instruction boundary (saved with --save)

FILE and IMAGE may be - for stdin; -o/--save - writes to stdout.`;

function addRunOptions(cmd: Command, resume: boolean): Command {
  const gasHelp = resume
    ? `new budget of the prime time meter (default: what the image holds; ${RUN_DEFAULTS.gas.toLocaleString('en-US')} if unlimited or above 2^48)`
    : 'budget of the prime time meter';
  const gas = new Option('--gas <n>', gasHelp).argParser(whole(0));
  if (!resume) gas.default(RUN_DEFAULTS.gas, RUN_DEFAULTS.gas.toLocaleString('en-US'));
  return cmd
    .addOption(gas)
    .addOption(
      new Option('--memory <words>', 'budget of the prime memory meter, in 32-bit words')
        .argParser(whole(0))
        .default(resume ? undefined : RUN_DEFAULTS.memory, resume ? undefined : '16,777,216 = 64 MiB'),
    )
    .option('--save <image>', 'save the machine as an image after the run (- for stdout)')
    .option('--compress', 'gzip the saved image (its hash stays that of the uncompressed image)')
    .option('--json', 'print one JSON object with the outcome on stdout')
    .addOption(
      new Option('--trace [format]', 'trace every step to stderr: text or jsonl (EIP-3155 fields)')
        .choices(['text', 'jsonl'])
        .preset('text'),
    )
    .option('--trace-file <file>', 'write the trace to FILE instead of stderr (- for stdout)')
    .option('--stats', 'print steps, gas, time and speed on stderr')
    .option('--input <text>', "queue TEXT's code points for the input device")
    .option('--input-file <file>', "queue FILE's characters for the input device (- for stdin)")
    .option(
      '--max-steps <n>',
      'pause after N instructions (exit 7; save with --save, continue with resume)',
      whole(0),
    )
    .option(
      '--output-limit <n>',
      'with --json: keep at most N characters of console output (default 16,777,216); the rest is dropped and counted',
      whole(0),
    )
    .option('-q, --quiet', 'no summary on stderr')
    .option('--raw', 'write console output to a terminal as it is (control characters are escaped otherwise)')
    .option(
      '--stdin',
      'feed stdin to the input device even on a terminal (default: when stdin is not a terminal)',
    )
    .option('--no-stdin', 'never feed stdin to the input device');
}

/** The commander program, its output and exits routed through `onExit`. */
function buildProgram(setExit: (code: ExitCode) => void): Command {
  const program = new Command('keyvm');
  program
    .description('KeyVM: a capability-secure, metered, image-based virtual machine')
    .version(`keyvm ${VERSION}`, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`keyvm: ${s.replace(/^error: /, '')}`),
    })
    .addHelpText('after', EXIT_HELP);
  // Our own help verb, so `help VERB` with an unknown VERB is a usage error that says so.
  program.helpCommand(false);
  program
    .addOption(
      new Option('--max-input <bytes>', 'read at most this much of any input file or stdin (K, M, G units)')
        .argParser((value: string) => {
          const n = parseByteSize(value);
          if (n === undefined) throw new InvalidArgumentError('expected a size in bytes >= 1, like 64M');
          return n;
        })
        .default(DEFAULT_MAX_INPUT, '256M'),
    )
    .hook('preAction', (thisCommand) => {
      setMaxInput((thisCommand.opts() as { maxInput: number }).maxInput);
    });

  addRunOptions(
    program
      .command('run')
      .description('run assembly source (.ism, .kasm), a .kvm program, or an image')
      .argument('<file>', 'program or image (- for stdin)')
      .argument('[args...]', 'integers pushed onto the root stack, first deepest'),
    false,
  ).action(async (file: string, args: string[], flags: RunFlags) =>
    setExit(await runCommand(file, args, flags)),
  );

  addRunOptions(
    program
      .command('resume')
      .description('continue a saved image')
      .argument('<image>', 'image (- for stdin)'),
    true,
  ).action(async (file: string, flags: RunFlags) => setExit(await resumeCommand(file, flags)));

  program
    .command('asm')
    .description('assemble source into a .kvm program')
    .argument('<file>', 'assembly source (- for stdin)')
    .option('-o, --output <out>', 'output file (- for stdout; default: FILE with .kvm)')
    .option('--strip', 'leave out labels, the source map and the file name')
    .action(async (file: string, flags) => setExit(await asmCommand(file, flags)));

  program
    .command('build')
    .description('compile a KeyVM language source (.kl) into a .kvm program, or show its assembly')
    .argument('<file>', 'language source (- for stdin)')
    .option(
      '-o, --output <out>',
      'output file (- for stdout; default: FILE with .kvm, or stdout for --emit asm)',
    )
    .option(
      '--emit <what>',
      'kvm (the default) or asm: the generated assembly, annotated with the source lines',
    )
    .action(async (file: string, flags) => setExit(await buildCommand(file, flags)));

  program
    .command('disasm')
    .description("print a .kvm program, or an image's code pages, as assembly")
    .argument('<file>', '.kvm program, image or assembly source (- for stdin)')
    .option('-o, --output <out>', 'output file (default: stdout)')
    .action(async (file: string, flags) => setExit(await disasmCommand(file, flags)));

  program
    .command('inspect')
    .description('show an image: header, hash, kernel, domains, meters, pages, devices')
    .argument('<image>', 'image (- for stdin)')
    .option('--json', 'print it as JSON')
    .action(async (file: string, flags) => setExit(await inspectCommand(file, flags)));

  program
    .command('graph')
    .description('draw the capability graph of an image: DOT, or SVG with --svg')
    .argument('<image>', 'image (- for stdin)')
    .option('--svg', 'draw it as SVG (no Graphviz needed)')
    .addOption(
      new Option('--max-nodes <n>', 'draw at most N objects (domains first); say how many more there are')
        .argParser(whole(1))
        .default(DEFAULT_MAX_NODES, DEFAULT_MAX_NODES.toLocaleString('en-US')),
    )
    .option('-o, --output <out>', 'output file (default: stdout)')
    .action(async (file: string, flags) => setExit(await graphCommand(file, flags)));

  program
    .command('debug')
    .description('open FILE (source, .kvm or image) in the playground, served on 127.0.0.1; prints the URL')
    .argument('<file>', 'assembly source, a .kvm program or an image')
    .option('--port <n>', 'port to listen on (default: a free one)', whole(0))
    .action(async (file: string, flags) => setExit(await debugCommand(file, flags)));

  program
    .command('ops')
    .description('the instruction reference, from the ISA table')
    .argument('[names...]', 'only these instructions (mnemonics or codes)')
    .option('--json', 'print it as JSON')
    .action(async (names: string[], flags) => setExit(await opsCommand(names, flags)));

  program
    .command('help')
    .description('show help for a verb')
    .argument('[verb]', 'the verb to explain')
    .action((verb: string | undefined) => {
      if (verb === undefined) program.help();
      const command = program.commands.find((c) => c.name() === verb);
      if (command === undefined) {
        const verbs = program.commands.map((c) => c.name()).filter((name) => name !== 'help');
        throw usageError(`unknown verb '${verb}'\n(the verbs are ${verbs.join(', ')}; see keyvm --help)`);
      }
      command.help();
    });

  return program;
}

function report(error: CliError): void {
  const p = paint(colourFor(process.stderr));
  const debug = process.env.KEYVM_DEBUG === '1';
  // Assembly diagnostics already read `file:line:col: error: …`.
  const text = /^\S+:\d+:\d+: error: /.test(error.message)
    ? error.message
    : `${p.red('keyvm:')} ${error.message}`;
  process.stderr.write(`${text}\n`);
  if (debug) {
    const cause = error.cause instanceof Error ? error.cause : error;
    process.stderr.write(`${cause.stack ?? String(cause)}\n`);
  }
}

/** Flags whose value is the next argument (so that argument is not read as a flag). */
const TAKES_VALUE = new Set([
  '--gas',
  '--memory',
  '--save',
  '--trace-file',
  '--input',
  '--input-file',
  '--max-steps',
  '--output-limit',
  '--max-input',
  '-o',
  '--output',
]);

/**
 * `--trace` takes an optional format, so `run --trace prog.ism` would read the file
 * name as one: a bare `--trace` followed by anything but `text` or `jsonl` means text.
 */
export function bareTrace(argv: readonly string[]): string[] {
  const out = [...argv];
  for (let i = 2; i < out.length; i++) {
    const arg = out[i]!;
    if (arg === '--') break;
    if (TAKES_VALUE.has(arg)) i++;
    else if (arg === '--trace' && i + 1 < out.length && !/^(text|jsonl)$|^-/.test(out[i + 1]!))
      out[i] = '--trace=text';
  }
  return out;
}

/**
 * Run the command line `argv` (as process.argv: node, script, args…) and return
 * the exit code. Never calls process.exit, so pending output is written out.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let exit: number = ExitCode.ok;
  const program = buildProgram((code) => {
    exit = code;
  });
  try {
    await program.parseAsync(bareTrace(argv));
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and --version exit 0; every other commander error is a usage error.
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const error = toCliError(e);
    report(error);
    return error.exitCode;
  }
}
