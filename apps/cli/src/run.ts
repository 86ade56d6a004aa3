// `keyvm run` and `keyvm resume`: boot a program (or load an image), run it under
// bounded meters, optionally trace every step, save the machine as an image, and
// report the outcome as a human summary or one JSON object.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { disassemble, type Program } from '@keyvm/assembler';
import { DomainSlot, ObjectKind, UNLIMITED } from '@keyvm/core';
import { encodeImage, imageHash } from '@keyvm/image';
import {
  Machine,
  type MachineApi,
  MachineError,
  type MachineOptions,
  type RunResult,
  type RunStatus,
  type StepInfo,
} from '@keyvm/interpreter';
import { instructionByCode } from '@keyvm/isa';
import { stackTopText, VIEW_ENDS } from './bounded.js';
import { CliError, ExitCode, ioError, malformed, usageError } from './errors.js';
import { METER_CAP } from './input-limits.js';
import {
  colourFor,
  displayName,
  type Input,
  loadInput,
  loadInputOf,
  paint,
  readText,
  writeImage,
  writeStream,
} from './io.js';
import { sourceOf } from './lang.js';

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
}

/** The exit code of each final status. */
export const STATUS_EXIT: Readonly<Record<RunStatus, ExitCode>> = {
  halted: ExitCode.ok,
  fault: ExitCode.fault,
  'out-of-gas': ExitCode.outOfGas,
  waiting: ExitCode.waiting,
  paused: ExitCode.paused,
};

/** Steps per run() call while tracing (the trace is flushed, with backpressure, in between). */
const TRACE_CHUNK = 4096;
/** Steps per run() call on a terminal, so output and progress appear as the run goes. */
const TERMINAL_CHUNK = 2_000_000;
/** Progress appears only for runs longer than this (ms). */
const PROGRESS_AFTER_MS = 500;
/** At most this often (ms). */
const PROGRESS_EVERY_MS = 100;
/** Console output is written out whenever this many characters are pending. */
const CONSOLE_FLUSH = 8192;

/** `keyvm run FILE`: FILE is assembly source, a .kvm program or an image (then it resumes). */
export async function runCommand(file: string, flags: RunFlags): Promise<ExitCode> {
  checkStreams(file, flags);
  return execute(await loadInput(file), flags);
}

/** `keyvm resume IMAGE`: continue a saved machine. */
export async function resumeCommand(file: string, flags: RunFlags): Promise<ExitCode> {
  checkStreams(file, flags);
  return execute(await loadInputOf(file, ['image'], '; run it with `keyvm run`'), flags);
}

/** Flags that would fight over stdin or stdout. */
function checkStreams(file: string, flags: RunFlags): void {
  if (flags.save === '-' && flags.json) throw usageError('--save - and --json both want stdout');
  if (flags.save === '-' && flags.trace !== undefined && flags.traceFile === '-')
    throw usageError('--save - and --trace-file - both want stdout');
  if (flags.json && flags.traceFile === '-') throw usageError('--json and --trace-file - both want stdout');
  if (file === '-' && flags.inputFile === '-') throw usageError('FILE and --input-file cannot both be stdin');
  if (flags.traceFile !== undefined && flags.trace === undefined)
    throw usageError('--trace-file needs --trace');
}

/** Where console output goes: stdout, or stderr when stdout carries an image; collected for --json. */
interface ConsoleSink {
  readonly stream: NodeJS.WriteStream | null;
  pending: string;
  endsWithNewline: boolean;
  wrote: boolean;
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

async function execute(input: Input, flags: RunFlags): Promise<ExitCode> {
  const sink: ConsoleSink = {
    stream: flags.json ? null : flags.save === '-' ? process.stderr : process.stdout,
    pending: '',
    endsWithNewline: true,
    wrote: false,
  };
  const write = (text: string): void => {
    sink.pending += text;
    if (sink.pending.length >= CONSOLE_FLUSH) flushConsole(sink);
  };
  const host = sink.stream ? { write } : {};
  let machine: MachineApi;
  let gas: number | undefined;
  if (input.kind === 'image') {
    const limit = flags.outputLimit === undefined ? {} : { outputLimit: flags.outputLimit };
    machine = machineOf(input, { host, ...limit });
    const store = machine.store;
    // Unlimited, or more than METER_CAP (2^53-1 is no practical bound either): the defaults.
    const capped = (n: number): boolean => n === UNLIMITED || n > METER_CAP;
    gas = flags.gas ?? (capped(store.primeTime.remaining) ? RUN_DEFAULTS.gas : undefined);
    if (flags.memory !== undefined) store.primeMemory.remaining = flags.memory;
    else if (capped(store.primeMemory.remaining)) store.primeMemory.remaining = RUN_DEFAULTS.memory;
  } else {
    machine = Machine.boot(input.program, {
      time: flags.gas ?? RUN_DEFAULTS.gas,
      memory: flags.memory ?? RUN_DEFAULTS.memory,
      host,
      ...(flags.outputLimit === undefined ? {} : { outputLimit: flags.outputLimit }),
    });
  }
  const inputText =
    (flags.input ?? '') +
    (flags.inputFile === undefined ? '' : await readText(flags.inputFile, '--input-file'));
  if (inputText.length > 0) machine.provideInput(Array.from(inputText, (c) => c.codePointAt(0)!));

  const tracer = flags.trace === undefined ? null : await openTracer(machine, flags);
  const started = performance.now();
  const outcome = await runChunks(machine, flags, gas, tracer, sink, started);
  const elapsed = performance.now() - started;
  flushConsole(sink);

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
    await writeImage(flags.save, bytes, flags.compress === true);
    hash = imageHash(bytes);
    savedBytes = bytes.length;
  }
  const stack = machine.stack();
  const report = contractReport(outcome, stack, hash);
  if (tracer) await tracer.finish(outcome);
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
        `${humanSummary(outcome, stack, flags, hash, input.kind === 'image' ? undefined : input.program)}\n`,
      );
  }
  if (flags.stats) await writeStream(process.stderr, statsText(machine, outcome, elapsed, savedBytes));
  return STATUS_EXIT[outcome.status];
}

function flushConsole(sink: ConsoleSink): void {
  if (sink.pending.length === 0 || sink.stream === null) return;
  sink.stream.write(sink.pending);
  sink.wrote = true;
  sink.endsWithNewline = sink.pending.endsWith('\n');
  sink.pending = '';
}

/**
 * Run to the end in chunks: one run() call when nothing needs to happen in
 * between, smaller calls while tracing (to flush the trace) or on a terminal (to
 * show output and progress). Chunking does not change what the machine does.
 */
async function runChunks(
  machine: MachineApi,
  flags: RunFlags,
  gas: number | undefined,
  tracer: Tracer | null,
  sink: ConsoleSink,
  started: number,
): Promise<RunResult> {
  const limit = flags.maxSteps ?? Number.POSITIVE_INFINITY;
  const interactive = process.stderr.isTTY === true || process.stdout.isTTY === true;
  const chunk = tracer ? TRACE_CHUNK : interactive ? TERMINAL_CHUNK : Number.POSITIVE_INFINITY;
  const showProgress = process.stderr.isTTY === true && !flags.quiet;
  let steps = 0;
  let gasUsed = 0;
  let first = true;
  let progressShown = false;
  let progressAt = 0;
  for (;;) {
    const want = Math.min(chunk, limit - steps);
    const options: { maxSteps?: number; gas?: number } = {};
    if (want !== Number.POSITIVE_INFINITY) options.maxSteps = want;
    if (first && gas !== undefined) options.gas = gas;
    first = false;
    const r = machine.run(options);
    steps += r.steps;
    gasUsed += r.gasUsed;
    const done = r.status !== 'paused' || steps >= limit;
    if (tracer) await tracer.flush();
    if (done) {
      if (progressShown) process.stderr.write('\r\x1b[2K');
      return r.fault
        ? { status: r.status, steps, gasUsed, fault: r.fault }
        : { status: r.status, steps, gasUsed };
    }
    flushConsole(sink);
    const now = performance.now();
    if (showProgress && now - started > PROGRESS_AFTER_MS && now - progressAt >= PROGRESS_EVERY_MS) {
      progressShown = true;
      progressAt = now;
      process.stderr.write(
        `\r\x1b[2K${steps.toLocaleString('en-US')} steps, ${gasUsed.toLocaleString('en-US')} gas…`,
      );
    }
  }
}

/** The --json contract fields, in the contract's order. */
export function contractReport(
  r: RunResult,
  stack: readonly number[],
  hash: string | undefined,
): Record<string, unknown> {
  const report: Record<string, unknown> = { status: r.status, steps: r.steps, gasUsed: r.gasUsed, stack };
  if (r.fault) {
    const f = r.fault;
    report.fault = { code: f.code, message: f.message, pc: f.pc, domain: f.domain, number: f.number };
  }
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
  r: RunResult,
  stack: readonly number[],
  flags: RunFlags,
  hash?: string,
  program?: Program,
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
      const where = program === undefined ? '' : sourceOf(program, f.pc);
      line = `${p.red('fault')}: ${f.code} at pc ${f.pc}${where} in domain #${f.domain}: ${f.message}\n  ${tail}`;
      break;
    }
    case 'out-of-gas':
      line = `${p.yellow('out of gas')} ${tail}\n  (raise the budget with --gas N${flags.save === undefined ? '' : ', or resume the saved image with --gas N'})`;
      break;
    case 'waiting':
      line = `${p.yellow('waiting for input')} ${tail}\n  (give input with --input TEXT or --input-file FILE)`;
      break;
    case 'paused':
      line = `${p.yellow('paused')} ${tail}${flags.save === undefined ? '' : '\n  (continue with keyvm resume)'}`;
      break;
  }
  if (hash !== undefined && flags.save !== undefined)
    line += `\n  saved ${flags.save === '-' ? 'to stdout' : flags.save} (sha256 ${hash})`;
  return line;
}

function statsText(machine: MachineApi, r: RunResult, ms: number, savedBytes: number): string {
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
  finish(r: RunResult): Promise<void>;
}

/**
 * One EIP-3155 line: its field names in its order, then KeyVM's opName and domain.
 * A stack deeper than 32 words is shown bounded: its bottom and top 16 words, and
 * `stackOmitted`, the number of words between them that were left out.
 */
export function jsonlStep(s: StepInfo): string {
  const more = s.stackOmitted > 0 ? `,"stackOmitted":${s.stackOmitted}` : '';
  return `{"pc":${s.pc},"op":${s.op},"gas":${s.gas},"gasCost":${s.gasCost},"stack":[${s.stack.join(',')}]${more},"depth":${s.depth},"opName":${JSON.stringify(s.opName)},"domain":${s.domain}}\n`;
}

/** The instruction at `pc` of a domain's code, as the disassembler prints it. */
function instructionText(machine: MachineApi, s: StepInfo): string {
  const page = machine.store.object(s.domain);
  const code =
    page?.kind === ObjectKind.keyPage ? machine.store.deref(page.slots[DomainSlot.CODE]!) : undefined;
  if (code?.kind !== ObjectKind.dataPage) return s.opName;
  const length = 1 + (instructionByCode(s.op)?.immediates ?? 0);
  const text = disassemble(code.words.subarray(s.pc, s.pc + length)).trimEnd();
  return text.slice(text.indexOf(': ') + 2);
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
  machine.onStep =
    format === 'jsonl'
      ? (s) => {
          buffer += jsonlStep(s);
        }
      : (s) => {
          count++;
          const depth = s.depth > 1 ? ` depth ${s.depth}` : '';
          buffer += `${String(count).padStart(6)}  #${s.domain} ${String(s.pc).padStart(4, '0')}: ${instructionText(machine, s).padEnd(18)} gas ${s.gas}${depth}  ${stackTopText(s.sp, s.stack)}\n`;
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
    async finish(r: RunResult): Promise<void> {
      machine.onStep = null;
      if (format === 'jsonl') {
        const summary: Record<string, unknown> = { status: r.status, steps: r.steps, gasUsed: r.gasUsed };
        if (r.fault) summary.fault = { code: r.fault.code, message: r.fault.message, pc: r.fault.pc };
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
