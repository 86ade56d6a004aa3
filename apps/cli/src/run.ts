// `keyvm run` and `keyvm resume`: boot a program (or load an image), run it under
// bounded meters, optionally trace every step, save the machine as an image, and
// report the outcome as a human summary or one JSON object.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { disassembleInstruction, type Program, WORD_MAX, WORD_MIN } from '@keyvm/assembler';
import { DomainSlot, ObjectKind, UNLIMITED } from '@keyvm/core';
import {
  bootDebugInfo,
  DomainRecorder,
  domainLabel,
  encodeImage,
  type FaultSource,
  type ImageDebugInfo,
  imageHash,
  isLanguageDebug,
  liveDebugInfo,
  locateFault,
  programOfDomain,
  withDebugInfo,
} from '@keyvm/image';
import {
  type BootOptions,
  Machine,
  type MachineApi,
  MachineError,
  type MachineOptions,
  type RunResult,
  type RunStatus,
  type StepInfo,
} from '@keyvm/interpreter';
import { stackTopText, VIEW_ENDS } from './bounded.js';
import { ConsoleSink } from './console-sink.js';
import { faultSourceFields, faultText } from './debug-info.js';
import { CliError, ExitCode, ioError, malformed, usageError } from './errors.js';
import { InputFeed } from './input-feed.js';
import { METER_CAP } from './input-limits.js';
import { type Interrupt, watchInterrupts } from './interrupt.js';
import {
  colourFor,
  displayName,
  handlesInterrupts,
  type Input,
  loadInput,
  loadInputOf,
  paint,
  STDIN_NAME,
  writeImage,
  writeStream,
} from './io.js';
import { isLanguageProgram, withFunctionName } from './lang.js';
import { checkWritable, refuseBinaryToTerminal } from './preflight.js';
import { faultError, faultFields, jsonlStep, textStep } from './trace-format.js';

/** Bounded defaults, each overridable by a flag. */
export const RUN_DEFAULTS = Object.freeze({
  /** --gas: the prime time meter. */
  gas: 10_000_000,
  /** --memory: the prime memory meter, in words (16M words = 64 MiB). */
  memory: 16 * 1024 * 1024,
});

export type TraceFormat = 'text' | 'jsonl';

export interface RunFlags {
  gas?: number;
  memory?: number;
  save?: string;
  compress?: boolean;
  json?: boolean;
  trace?: TraceFormat | true;
  traceFile?: string;
  stats?: boolean;
  input?: string;
  inputFile?: string;
  maxSteps?: number;
  outputLimit?: number;
  quiet?: boolean;
  /** Console text passes to a terminal as it is (control characters unescaped). */
  raw?: boolean;
  /** Connect stdin to the input device: true always, false never, unset when it is not a terminal. */
  stdin?: boolean;
}

/** How a run ended: the machine's status, or stopped by a signal at an instruction boundary. */
export type Outcome = Omit<RunResult, 'status'> & { readonly status: RunStatus | 'interrupted' };

/** The exit code of each final status (an interrupted run exits with its signal's code). */
export const STATUS_EXIT: Readonly<Record<RunStatus, ExitCode>> = {
  halted: ExitCode.ok,
  fault: ExitCode.fault,
  'out-of-gas': ExitCode.outOfGas,
  waiting: ExitCode.waiting,
  paused: ExitCode.paused,
};

/** Steps per run() call while tracing (the trace is flushed, with backpressure, in between). */
const TRACE_CHUNK = 4096;
/**
 * Steps per run() call otherwise: adapted so a call takes about CHUNK_MS, so console
 * output goes out, progress shows and Ctrl-C is seen as the run goes.
 */
const CHUNK = { first: 65_536, min: 1024, max: 1 << 24 } as const;
const CHUNK_MS = 20;
/** Progress appears only for runs longer than this (ms). */
const PROGRESS_AFTER_MS = 500;
/** At most this often (ms). */
const PROGRESS_EVERY_MS = 100;

/** A program argument: decimal, 0x hex, 0b binary or 0o octal, optionally negative, as PUSH takes it. */
const ARGUMENT = /^(-?)(0x[0-9a-f]+|0b[01]+|0o[0-7]+|[0-9]+)$/i;

/** A program argument as a signed 32-bit word (from 2^31 up to 2^32-1 it wraps, as in assembly). */
export function argumentWord(text: string): number {
  const match = ARGUMENT.exec(text);
  const magnitude = match === null ? null : BigInt(match[2]!);
  const value = magnitude === null ? null : match![1] === '-' ? -magnitude : magnitude;
  if (value === null || value < BigInt(WORD_MIN) || value > BigInt(WORD_MAX))
    throw usageError(
      `program argument '${text}' is not a 32-bit integer (arguments are numbers pushed onto the root stack; give text on stdin)`,
    );
  return Number(BigInt.asIntN(32, value));
}

/**
 * `keyvm run FILE [ARG…]`: FILE is assembly source, a .kvm program or an image
 * (then it resumes). ARGs are integers pushed onto the root domain's stack, first
 * argument deepest.
 */
export async function runCommand(file: string, args: readonly string[], flags: RunFlags): Promise<ExitCode> {
  checkStreams(file, flags);
  const words = args.map(argumentWord);
  const input = await loadInput(file);
  if (input.kind === 'image' && words.length > 0)
    throw usageError(
      `program arguments are for a program being booted; ${input.name} is an image, which resumes`,
    );
  return execute(input, flags, words);
}

/** `keyvm resume IMAGE`: continue a saved machine. */
export async function resumeCommand(file: string, flags: RunFlags): Promise<ExitCode> {
  checkStreams(file, flags);
  return execute(await loadInputOf(file, ['image'], '; run it with `keyvm run`'), flags, []);
}

/** Flags that would fight over stdin or stdout. */
function checkStreams(file: string, flags: RunFlags): void {
  if (flags.save === '-' && flags.json) throw usageError('--save - and --json both want stdout');
  if (flags.save === '-' && flags.trace !== undefined && flags.traceFile === '-')
    throw usageError('--save - and --trace-file - both want stdout');
  if (flags.json && flags.traceFile === '-') throw usageError('--json and --trace-file - both want stdout');
  if (file === '-' && flags.inputFile === '-') throw usageError('FILE and --input-file cannot both be stdin');
  // One rule: a flag that only qualifies another is an error without it.
  if (flags.traceFile !== undefined && flags.trace === undefined)
    throw usageError('--trace-file needs --trace');
  if (flags.compress && flags.save === undefined) throw usageError('--compress needs --save');
  if (flags.outputLimit !== undefined && !flags.json) throw usageError('--output-limit needs --json');
  if (flags.save === '-') refuseBinaryToTerminal('an image', '--save');
  // Fail before the run, not after it, when the image could not be saved.
  if (flags.save !== undefined) checkWritable(flags.save);
}

/**
 * A machine for a decoded image. The format allows a bare store, but only one with
 * a root domain and a kernel record a machine accepts can run: anything else is a
 * malformed image (exit 4), named, not a usage error.
 */
function machineOf(input: Extract<Input, { kind: 'image' }>, options: MachineOptions): MachineApi {
  const bad = (why: string) => malformed(`${displayName(input.name)}: malformed image: ${why}`);
  if (input.store.kernel.root === 0) throw bad('it has no root domain to run (the kernel root is #0)');
  try {
    return new Machine(input.store, options);
  } catch (e) {
    if (e instanceof MachineError) throw bad(e.message);
    throw e;
  }
}

/**
 * Whether stdin feeds the input device: --stdin / --no-stdin say; else when it is
 * not a terminal, not the program itself and no --input or --input-file is given.
 */
function connectStdin(file: string, flags: RunFlags): boolean {
  if (flags.stdin !== undefined) return flags.stdin;
  if (file === '-' || flags.input !== undefined || flags.inputFile !== undefined) return false;
  return process.stdin.isTTY !== true;
}

async function execute(input: Input, flags: RunFlags, args: readonly number[]): Promise<ExitCode> {
  const sink = new ConsoleSink(
    // Stdout carries an image or a trace: console output goes to stderr.
    flags.json
      ? null
      : flags.save === '-' || (flags.trace !== undefined && flags.traceFile === '-')
        ? process.stderr
        : process.stdout,
    flags.raw === true,
  );
  const host = sink.stream ? { write: sink.write } : {};
  let machine: MachineApi;
  let gas: number | undefined;
  let debug: ImageDebugInfo | undefined;
  if (input.kind === 'image') {
    const limit = flags.outputLimit === undefined ? {} : { outputLimit: flags.outputLimit };
    machine = machineOf(input, { host, ...limit });
    const store = machine.store;
    debug = input.debug;
    // Unlimited, or more than METER_CAP (2^53-1 is no practical bound either): the defaults.
    const capped = (n: number): boolean => n === UNLIMITED || n > METER_CAP;
    gas = flags.gas ?? (capped(store.primeTime.remaining) ? RUN_DEFAULTS.gas : undefined);
    if (flags.memory !== undefined) store.primeMemory.remaining = flags.memory;
    else if (capped(store.primeMemory.remaining)) store.primeMemory.remaining = RUN_DEFAULTS.memory;
  } else {
    const options = {
      stack: args,
      time: flags.gas ?? RUN_DEFAULTS.gas,
      host,
      ...(flags.outputLimit === undefined ? {} : { outputLimit: flags.outputLimit }),
    };
    const memory = flags.memory ?? RUN_DEFAULTS.memory;
    try {
      machine = Machine.boot(input.program, { ...options, memory });
    } catch (e) {
      if (!(e instanceof MachineError)) throw e;
      throw usageError(`${e.message}: ${bootNeeds(input.program, options, memory)}`);
    }
    debug = bootDebugInfo(machine.store, input.program, input.kind === 'source' ? input.text : undefined);
  }
  // What each domain made during the run starts at, for naming it (and saving that).
  const recorder = new DomainRecorder(machine.store, debug);
  const { feed, initial } = await InputFeed.open(
    flags,
    connectStdin(input.name === STDIN_NAME ? '-' : input.name, flags) ? process.stdin : null,
  );
  if (initial.length > 0) machine.provideInput(initial);

  const tracer = flags.trace === undefined ? null : await openTracer(machine, flags);
  const interrupt = watchInterrupts(handlesInterrupts());
  const started = performance.now();
  let outcome: Outcome;
  try {
    outcome = await runChunks(machine, flags, gas, tracer, sink, feed, interrupt, started);
  } finally {
    interrupt.release();
    feed.close();
    recorder.detach();
  }
  debug = recorder.info();
  const elapsed = performance.now() - started;
  sink.flush();

  let hash: string | undefined;
  let savedBytes = 0;
  if (flags.save !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = encodeImage(machine.store);
    } catch (e) {
      throw new CliError(ExitCode.internal, `internal error: cannot encode the machine: ${String(e)}`, {
        cause: e,
      });
    }
    hash = imageHash(bytes);
    // The program's debug information rides along, outside the state and its hash.
    bytes = withDebugInfo(bytes, liveDebugInfo(machine.store, debug));
    await writeImage(flags.save, bytes, flags.compress === true);
    savedBytes = bytes.length;
  }
  const stack = machine.stack();
  const located = outcome.fault ? locateFault(machine.store, debug, outcome.fault) : undefined;
  // A program compiled from the language names the function, not the generated label
  // (booted from source, or resumed from an image whose debug section says so).
  const program =
    located === undefined ? undefined : programOfDomain(machine.store, debug, outcome.fault!.domain);
  const where =
    located !== undefined &&
    program !== undefined &&
    (isLanguageDebug(program) || (input.kind !== 'image' && isLanguageProgram(input.program)))
      ? withFunctionName(located, program, outcome.fault!.pc)
      : located;
  const name = outcome.fault ? domainLabel(debug, outcome.fault.domain) : undefined;
  const report = contractReport(outcome, stack, hash, where, name);
  if (tracer) await tracer.finish(outcome, name);
  if (flags.json) {
    const dropped = machine.outputDropped;
    const json = { ...report, output: machine.output, ...(dropped > 0 ? { outputDropped: dropped } : {}) };
    await writeStream(process.stdout, `${JSON.stringify(json)}\n`);
    if (dropped > 0 && !flags.quiet)
      await writeStream(
        process.stderr,
        `keyvm: console output beyond ${machine.output.length.toLocaleString('en-US')} characters was dropped (${dropped.toLocaleString('en-US')} more)\n`,
      );
  } else {
    // Keep the summary on its own line when output and summary share a terminal.
    if (sink.wrote && !sink.endsWithNewline && sink.stream?.isTTY && process.stderr.isTTY)
      await writeStream(sink.stream, '\n');
    if (!flags.quiet && !(tracer?.format === 'jsonl' && tracer.toStderr))
      await writeStream(
        process.stderr,
        `${humanSummary(outcome, stack, flags, hash, machine, where, name)}\n`,
      );
  }
  if (flags.stats) await writeStream(process.stderr, statsText(machine, outcome, elapsed, savedBytes));
  return outcome.status === 'interrupted'
    ? (interrupt.code ?? ExitCode.interrupted)
    : STATUS_EXIT[outcome.status];
}

/**
 * What booting `program` takes of the memory meter, told against the budget given:
 * found by booting it once more under a meter it cannot exhaust.
 */
function bootNeeds(program: Program, options: BootOptions, memory: number): string {
  const probe = Machine.boot(program, { ...options, memory: Number.MAX_SAFE_INTEGER });
  const needed = Number.MAX_SAFE_INTEGER - probe.store.primeMemory.remaining;
  return `booting this program takes ${needed.toLocaleString('en-US')} words of memory and --memory is ${memory.toLocaleString('en-US')} (give --memory ${needed} or more)`;
}

/**
 * Run to the end in chunks: small ones while tracing (to flush the trace), else
 * chunks of about CHUNK_MS, between which console output goes out, progress shows,
 * input from stdin is read when the program waits for it, and a signal stops the
 * run (at an instruction boundary). Chunking does not change what the machine does.
 */
async function runChunks(
  machine: MachineApi,
  flags: RunFlags,
  gas: number | undefined,
  tracer: Tracer | null,
  sink: ConsoleSink,
  feed: InputFeed,
  interrupt: Interrupt,
  started: number,
): Promise<Outcome> {
  const limit = flags.maxSteps ?? Number.POSITIVE_INFINITY;
  let chunk: number = tracer ? TRACE_CHUNK : CHUNK.first;
  const showProgress = process.stderr.isTTY === true && !flags.quiet;
  const progress = {
    shown: false,
    clear(): void {
      process.stderr.write('\r\x1b[2K');
      this.shown = false;
    },
  };
  sink.progress = progress;
  let steps = 0;
  let gasUsed = 0;
  let first = true;
  let progressAt = 0;
  const outcome = (status: Outcome['status'], fault: RunResult['fault']): Outcome => {
    if (progress.shown) progress.clear();
    return fault ? { status, steps, gasUsed, fault } : { status, steps, gasUsed };
  };
  for (;;) {
    if (interrupt.code !== null) return outcome('interrupted', undefined);
    const want = Math.min(chunk, limit - steps);
    const options: { maxSteps?: number; gas?: number } = {};
    if (want !== Number.POSITIVE_INFINITY) options.maxSteps = want;
    if (first && gas !== undefined) options.gas = gas;
    first = false;
    const began = performance.now();
    const r = machine.run(options);
    const took = performance.now() - began;
    steps += r.steps;
    gasUsed += r.gasUsed;
    if (tracer) await tracer.flush();
    else if (took < CHUNK_MS / 2) chunk = Math.min(chunk * 2, CHUNK.max);
    else if (took > CHUNK_MS * 2) chunk = Math.max(Math.floor(chunk / 2), CHUNK.min);
    sink.flush();
    if (r.status === 'waiting' && feed.open) {
      // Blocked on input: read what stdin has (or its end), unless a signal comes first.
      if (progress.shown) progress.clear();
      const words = await Promise.race([feed.next(), interrupt.signalled.then(() => null)]);
      if (words !== null && words.length > 0) machine.provideInput(words);
      continue;
    }
    if (r.status !== 'paused' || steps >= limit) return outcome(r.status, r.fault);
    // Let signal handlers run between chunks.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const now = performance.now();
    if (showProgress && now - started > PROGRESS_AFTER_MS && now - progressAt >= PROGRESS_EVERY_MS) {
      progress.shown = true;
      progressAt = now;
      process.stderr.write(
        `\r\x1b[2K${steps.toLocaleString('en-US')} steps, ${gasUsed.toLocaleString('en-US')} gas…`,
      );
    }
  }
}

/** The --json contract fields, in the contract's order. */
export function contractReport(
  r: Outcome,
  stack: readonly number[],
  hash: string | undefined,
  where?: FaultSource,
  domainName?: string,
): Record<string, unknown> {
  const report: Record<string, unknown> = { status: r.status, steps: r.steps, gasUsed: r.gasUsed, stack };
  if (r.fault) report.fault = { ...faultFields(r.fault), ...faultSourceFields(where, domainName) };
  if (hash !== undefined) report.imageHash = hash;
  return report;
}

const plural = (n: number, word: string): string =>
  `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** A stack for people: the top 16 words at most. */
export function stackText(stack: readonly number[]): string {
  const shown = stack.length > 16 ? ['…', ...stack.slice(-16).map(String)] : stack.map(String);
  return `[${shown.join(' ')}]`;
}

function humanSummary(
  r: Outcome,
  stack: readonly number[],
  flags: RunFlags,
  hash: string | undefined,
  machine: MachineApi,
  where: FaultSource | undefined,
  domainName: string | undefined,
): string {
  const p = paint(colourFor(process.stderr));
  const tail = `after ${plural(r.steps, 'step')}, ${r.gasUsed.toLocaleString('en-US')} gas; stack ${stackText(stack)}`;
  let line: string;
  switch (r.status) {
    case 'halted':
      line = `${p.green('halted')} ${tail}`;
      break;
    case 'fault': {
      const f = r.fault!;
      line = `${faultText(machine.store, f, where, p.red, domainName)}\n  ${tail}`;
      break;
    }
    case 'out-of-gas':
      line = `${p.yellow('out of gas')} ${tail}\n  (raise the budget with --gas N${flags.save === undefined ? '' : ', or resume the saved image with --gas N'})`;
      break;
    case 'waiting':
      line = `${p.yellow('waiting for input')} ${tail}\n  (give input on stdin, or with --input TEXT or --input-file FILE)`;
      break;
    case 'paused':
      line = `${p.yellow('paused')} ${tail}${flags.save === undefined ? '' : '\n  (continue with keyvm resume)'}`;
      break;
    case 'interrupted':
      line = `${p.yellow('interrupted')} ${tail}${flags.save === undefined ? '' : '\n  (saved at an instruction boundary; continue with keyvm resume)'}`;
      break;
  }
  if (hash !== undefined && flags.save !== undefined)
    line += `\n  saved ${flags.save === '-' ? 'to stdout' : flags.save} (sha256 ${hash})`;
  return line;
}

function statsText(machine: MachineApi, r: Outcome, ms: number, savedBytes: number): string {
  let dataPages = 0;
  let keyPages = 0;
  let domains = 0;
  let words = 0;
  for (const o of machine.store.objects()) {
    if (o.kind === ObjectKind.dataPage) {
      dataPages++;
      words += o.size;
    } else if (o.kind === ObjectKind.keyPage) {
      keyPages++;
      if (o.isDomain) domains++;
    }
  }
  const perSecond = ms > 0 ? (r.steps / ms) * 1000 : 0;
  const rows: [string, string][] = [
    ['steps', r.steps.toLocaleString('en-US')],
    ['gas used', r.gasUsed.toLocaleString('en-US')],
    ['wall time', `${ms.toFixed(2)} ms`],
    ['speed', `${(perSecond / 1e6).toFixed(2)} M instructions/s`],
    ['domains', String(domains)],
    ['pages', `${dataPages + keyPages} (${dataPages} data, ${plural(words, 'word')}; ${keyPages} key)`],
    ['machine steps', machine.store.kernel.steps.toLocaleString('en-US')],
  ];
  if (savedBytes > 0) rows.push(['image', plural(savedBytes, 'byte')]);
  return `${rows.map(([k, v]) => `${k.padEnd(14)}${v}`).join('\n')}\n`;
}

// ---- tracing -------------------------------------------------------------------------

interface Tracer {
  readonly format: TraceFormat;
  readonly toStderr: boolean;
  flush(): Promise<void>;
  /** Ends the trace; a jsonl trace's summary names the faulted domain `domainName` when known. */
  finish(r: Outcome, domainName: string | undefined): Promise<void>;
}

/** Words in the data page (slot 8) of domain `id`: EIP-3155's memSize for KeyVM. */
function dataWords(machine: MachineApi, id: number): number {
  const page = machine.store.object(id);
  const data =
    page?.kind === ObjectKind.keyPage ? machine.store.deref(page.slots[DomainSlot.DATA]!) : undefined;
  return data?.kind === ObjectKind.dataPage ? data.size : 0;
}

/**
 * The instruction at the step's pc in its domain's code, as the disassembler
 * writes it (`disassembleInstruction`: an immediate past the end of the code is
 * said, not thrown); the bare mnemonic if the code page cannot be reached.
 */
function instructionText(machine: MachineApi, s: StepInfo): string {
  const page = machine.store.object(s.domain);
  const code =
    page?.kind === ObjectKind.keyPage ? machine.store.deref(page.slots[DomainSlot.CODE]!) : undefined;
  if (code?.kind !== ObjectKind.dataPage) return s.opName;
  return disassembleInstruction(code.words, s.pc).text;
}

async function openTracer(machine: MachineApi, flags: RunFlags): Promise<Tracer> {
  const format: TraceFormat = flags.trace === true || flags.trace === undefined ? 'text' : flags.trace;
  const target = flags.traceFile;
  let stream: Writable;
  if (target === undefined) stream = process.stderr;
  else if (target === '-') stream = process.stdout;
  else {
    const file = createWriteStream(target);
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (e) => reject(ioError('write', target, e)));
    });
    stream = file;
  }
  // A write that fails (a full disk, a closed pipe) fails the run with exit 5, not silently.
  let failed: unknown;
  stream.on('error', (e) => {
    failed ??= e;
  });
  const check = (): void => {
    if (failed !== undefined) throw ioError('write', target ?? '<stderr>', failed);
  };
  // Step records copy the bottom and top 16 stack words, not a deep stack.
  machine.stepStackEnds = VIEW_ENDS;
  let buffer = '';
  let count = 0;
  // The latest jsonl step is held back until the next one: if the run stops on its
  // fault, it gets EIP-3155's `error`.
  let held: { step: StepInfo; memSize: number; instruction: string } | null = null;
  const release = (error?: string): void => {
    if (held !== null) buffer += jsonlStep(held.step, held.memSize, error, held.instruction);
    held = null;
  };
  machine.onStep =
    format === 'jsonl'
      ? (s) => {
          release();
          held = { step: s, memSize: dataWords(machine, s.domain), instruction: instructionText(machine, s) };
        }
      : (s) => {
          count++;
          buffer += textStep(count, s, instructionText(machine, s), stackTopText(s.sp, s.stack));
        };
  const flush = async (): Promise<void> => {
    if (buffer.length === 0) return;
    check();
    const text = buffer;
    buffer = '';
    try {
      await writeStream(stream, text);
    } catch (e) {
      throw ioError('write', target ?? '<stderr>', e);
    }
    check();
  };
  return {
    format,
    toStderr: target === undefined,
    flush,
    async finish(r: Outcome, domainName: string | undefined): Promise<void> {
      machine.onStep = null;
      if (format === 'jsonl') {
        const f = r.fault;
        const h: { step: StepInfo } | null = held;
        release(
          f && h !== null && h.step.pc === f.pc && h.step.domain === f.domain ? faultError(f) : undefined,
        );
        const summary: Record<string, unknown> = { status: r.status, steps: r.steps, gasUsed: r.gasUsed };
        if (f) summary.fault = { ...faultFields(f), ...(domainName === undefined ? {} : { domainName }) };
        buffer += `${JSON.stringify(summary)}\n`;
      }
      await flush();
      if (stream !== process.stderr && stream !== process.stdout)
        // 'close' comes after the last write's error, if any ('end' can come before it).
        await new Promise<void>((resolve) => {
          stream.once('close', () => resolve());
          stream.end();
        });
      check();
    },
  };
}
