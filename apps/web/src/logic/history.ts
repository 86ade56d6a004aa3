// Reverse execution for the playground (Mozilla rr's way): checkpoints of the whole
// machine every K steps plus deterministic replay from the nearest one. Host input is
// the only thing from outside; it is logged with the step it arrived at and handed
// back at the same step on replay, so the devices record the same transcripts.
import { DomainSlot, KeyKind } from '@keyvm/core';
import { Machine, type MachineOptions, type RunResult } from '@keyvm/interpreter';
import { decodeStore, encodeStore } from '../image-io.js';

/** One checkpoint: the machine at `position` steps, as canonical image bytes. */
export interface Checkpoint {
  readonly position: number;
  readonly bytes: Uint8Array;
  /** Host input the machine had queued but not read (not part of the image). */
  readonly pendingInput: readonly number[];
  /** Console output characters written before this point. */
  readonly outputLength: number;
  /** Input events already handed to the machine. */
  readonly inputCount: number;
}

/** Host input handed to the machine once it had run `position` steps. */
export interface InputEvent {
  readonly position: number;
  readonly words: readonly number[];
}

/** Where the machine is: the instruction the next step runs. */
export interface Location {
  readonly domain: number;
  /** Id of the data page the domain runs its code from (0 when it has none). */
  readonly codePage: number;
  readonly pc: number;
}

export interface HistoryOptions {
  /** The machine at position 0; called once. */
  readonly origin: () => Machine;
  /** Options for machines restored from checkpoints (the JIT, output limits). */
  readonly machineOptions?: MachineOptions;
  /** Steps between checkpoints at first (K); doubles whenever the budget is passed. */
  readonly interval?: number;
  /**
   * Most bytes of checkpoints kept. Past it, K doubles and every other checkpoint goes
   * (again, until they fit); the origin's always stays, whatever its size.
   */
  readonly budgetBytes?: number;
  /**
   * Most share of the running time that taking checkpoints may cost (0.05: 5%), measured
   * with `clock`; past it, K doubles (checkpoints already taken stay). Off when undefined,
   * so the spacing is a function of the steps alone.
   */
  readonly maxCheckpointShare?: number;
  /** Milliseconds, for `maxCheckpointShare` (default `performance.now`). */
  readonly clock?: () => number;
  /**
   * Told of each machine the history runs from: the origin's, and each one restored
   * from a checkpoint (to record what it makes, as a debugger's domain names do).
   */
  readonly onMachine?: (machine: Machine) => void;
}

export const HISTORY_DEFAULTS = Object.freeze({ interval: 100_000, budgetBytes: 128 * 1024 * 1024 });

/**
 * The instruction the machine runs next, or null when no domain can run (halted,
 * stopped on a fault, waiting for input). When no domain is active this picks the
 * next one as the next run would (a run of zero steps), which changes nothing the
 * next run would not.
 */
export function locate(machine: Machine): Location | null {
  const kernel = machine.store.kernel;
  if (kernel.active === 0 && machine.run({ maxSteps: 0 }).status !== 'paused') return null;
  if (kernel.active === 0) return null;
  const d = machine.domain(kernel.active);
  const code = d.slots[DomainSlot.CODE];
  const codePage = code && (code.kind === KeyKind.page || code.kind === KeyKind.readPage) ? code.target : 0;
  return { domain: d.id, codePage, pc: d.ip };
}

/** A predicate over the next instruction, checked before each step of a guarded run. */
export type StopCondition = (location: Location, history: History) => boolean;

export interface AdvanceResult {
  /** Why it stopped: the machine's own status, 'condition' when `until` held, or 'limit'. */
  readonly reason: RunResult['status'] | 'condition' | 'limit';
  readonly steps: number;
  readonly result: RunResult;
}

export class History {
  #machine: Machine;
  #position = 0;
  #interval: number;
  readonly #budgetBytes: number;
  /** Bytes held by #checkpoints. */
  #bytes = 0;
  readonly #share: number | undefined;
  readonly #clock: () => number;
  /** Time spent running and taking checkpoints since K last changed (for #share). */
  #runMs = 0;
  #checkpointMs = 0;
  #taken = 0;
  readonly #machineOptions: MachineOptions;
  readonly #onMachine: ((machine: Machine) => void) | undefined;
  #checkpoints: Checkpoint[] = [];
  #inputs: InputEvent[] = [];
  /** Input events handed to the current machine. */
  #inputCursor = 0;
  /** Output written before the current machine object took over. */
  #baseOutput = '';
  /** The longest output seen on the current timeline: every checkpoint's output is a prefix. */
  #timelineOutput = '';
  #last: RunResult = { status: 'paused', steps: 0, gasUsed: 0 };

  constructor(options: HistoryOptions) {
    this.#interval = whole(options.interval ?? HISTORY_DEFAULTS.interval, 1, 'checkpoint interval');
    this.#budgetBytes = whole(options.budgetBytes ?? HISTORY_DEFAULTS.budgetBytes, 1, 'checkpoint budget');
    this.#machineOptions = options.machineOptions ?? {};
    const share = options.maxCheckpointShare;
    if (share !== undefined && !(share > 0 && Number.isFinite(share)))
      throw new RangeError(`the checkpoints' share of the time must be above 0, got ${share}`);
    this.#share = share;
    this.#clock = options.clock ?? (() => performance.now());
    this.#onMachine = options.onMachine;
    this.#machine = options.origin();
    this.#onMachine?.(this.#machine);
    this.#takeCheckpoint();
  }

  get machine(): Machine {
    return this.#machine;
  }
  /** Steps run since the origin on the current timeline. */
  get position(): number {
    return this.#position;
  }
  /** Current spacing of checkpoints, in steps. */
  get interval(): number {
    return this.#interval;
  }
  /** Positions of the checkpoints kept, ascending. */
  get checkpointPositions(): number[] {
    return this.#checkpoints.map((c) => c.position);
  }
  /** Bytes the checkpoints kept hold (at most the budget, unless the origin's alone is more). */
  get checkpointBytes(): number {
    return this.#bytes;
  }
  get inputs(): readonly InputEvent[] {
    return this.#inputs;
  }
  /** The result of the last run call (status 'paused' at the origin and after a seek that arrived). */
  get last(): RunResult {
    return this.#last;
  }
  /** Console output from the origin to here. */
  get output(): string {
    return this.#baseOutput + this.#machine.output;
  }

  /**
   * Hand words to the input devices now. The recorded future (input given after this
   * point on an earlier pass) is dropped: from here the timeline is a new one.
   */
  provideInput(words: readonly number[]): void {
    const clean = words.map((w) => w | 0);
    this.#inputs.length = this.#inputCursor;
    this.#keep((c) => c.position <= this.#position && c.inputCount <= this.#inputCursor);
    this.#timelineOutput = this.output;
    this.#inputs.push({ position: this.#position, words: clean });
  }

  /** Run up to `maxSteps` steps; with `until`, check it before each step (after the first). */
  advance(maxSteps: number, until?: StopCondition): AdvanceResult {
    let steps = 0;
    if (!until) {
      while (steps < maxSteps) {
        const before = this.#position;
        const r = this.#runSome(maxSteps - steps);
        steps += this.#position - before;
        if (r.status !== 'paused' && !this.#inputDue()) return { reason: r.status, steps, result: r };
      }
      return { reason: 'limit', steps, result: this.#last };
    }
    while (steps < maxSteps) {
      const before = this.#position;
      const r = this.#runSome(1);
      steps += this.#position - before;
      if (r.status !== 'paused' && !this.#inputDue()) return { reason: r.status, steps, result: r };
      const here = locate(this.#machine);
      if (here === null) {
        const s = this.#machine.run({ maxSteps: 0 });
        this.#last = s;
        return { reason: s.status === 'paused' ? 'waiting' : s.status, steps, result: s };
      }
      if (this.#position > before && until(here, this)) return { reason: 'condition', steps, result: r };
    }
    return { reason: 'limit', steps, result: this.#last };
  }

  /** Go to `target` steps from the origin (back by checkpoint and replay, forward by running). */
  seek(target: number): number {
    const t = whole(target, 0, 'target step');
    if (t < this.#position) this.#restore(this.#checkpointAtOrBefore(t));
    while (this.#position < t) {
      const before = this.#position;
      const r = this.#runSome(t - this.#position);
      if (r.status !== 'paused' && this.#position === before && !this.#inputDue()) break;
    }
    return this.#position;
  }

  /** One step back: the same machine as a fresh run to the step before. */
  stepBack(steps = 1): number {
    return this.seek(Math.max(0, this.#position - steps));
  }

  /**
   * The last position before `before` (default: here) where `condition` held for the
   * next instruction, or null. Replays segment by segment from the nearest checkpoint
   * backwards, checking every step; leaves the machine where it was.
   */
  findLastBefore(condition: StopCondition, before = this.#position): number | null {
    const home = this.#position;
    let end = before;
    let found: number | null = null;
    for (let i = this.#checkpoints.length - 1; i >= 0 && found === null; i--) {
      const c = this.#checkpoints[i]!;
      if (c.position >= end) continue;
      this.#restore(c);
      for (;;) {
        const here = locate(this.#machine);
        if (here !== null && condition(here, this)) found = this.#position;
        if (this.#position + 1 >= end) break;
        const prev = this.#position;
        const r = this.#runSome(1);
        if (this.#position === prev && r.status !== 'paused' && !this.#inputDue()) break;
      }
      end = c.position;
    }
    this.seek(home);
    return found;
  }

  #inputDue(): boolean {
    const next = this.#inputs[this.#inputCursor];
    return next !== undefined && next.position <= this.#position;
  }

  /** Run at most `limit` steps, stopping at the next checkpoint boundary or recorded input. */
  #runSome(limit: number): RunResult {
    while (this.#inputDue()) {
      this.#machine.provideInput(this.#inputs[this.#inputCursor]!.words);
      this.#inputCursor++;
    }
    if (this.#position % this.#interval === 0) this.#takeCheckpoint();
    let n = Math.min(limit, this.#interval - (this.#position % this.#interval));
    const next = this.#inputs[this.#inputCursor];
    if (next !== undefined) n = Math.min(n, next.position - this.#position);
    const t0 = this.#share === undefined ? 0 : this.#clock();
    const r = this.#machine.run({ maxSteps: n });
    if (this.#share !== undefined) this.#runMs += this.#clock() - t0;
    this.#position += r.steps;
    this.#last = r;
    const out = this.output;
    if (out.length > this.#timelineOutput.length) this.#timelineOutput = out;
    return r;
  }

  #takeCheckpoint(): void {
    const at = this.#position;
    const cps = this.#checkpoints;
    const existing = cps.findIndex((c) => c.position === at);
    if (existing >= 0) return;
    const t0 = this.#share === undefined ? 0 : this.#clock();
    const checkpoint: Checkpoint = {
      position: at,
      bytes: encodeStore(this.#machine.store),
      pendingInput: this.#machine.pendingInput,
      outputLength: this.output.length,
      inputCount: this.#inputCursor,
    };
    let i = cps.length;
    while (i > 0 && cps[i - 1]!.position > at) i--;
    cps.splice(i, 0, checkpoint);
    this.#bytes += checkpoint.bytes.length;
    if (this.#share !== undefined) {
      this.#checkpointMs += this.#clock() - t0;
      // Judged over a few checkpoints at least, so one slow one (a cold start) does not count alone.
      if (++this.#taken >= 4 && this.#checkpointMs > this.#share * this.#runMs) {
        // Spaced out at once by as much as the measured cost asks, up to 16x a time (a power
        // of two, so the checkpoints taken stay on the new grid): with cheap steps (the
        // JIT) doubling at a time would pay for many dear checkpoints on the way.
        const over = this.#checkpointMs / Math.max(this.#share * this.#runMs, Number.MIN_VALUE);
        this.#interval *= 2 ** Math.min(4, Math.max(1, Math.ceil(Math.log2(over))));
        this.#runMs = this.#checkpointMs = this.#taken = 0;
      }
    }
    while (this.#bytes > this.#budgetBytes && this.#checkpoints.length > 1) {
      this.#interval *= 2;
      this.#runMs = this.#checkpointMs = this.#taken = 0;
      this.#keep((c) => c.position % this.#interval === 0);
    }
  }

  /** Keep the checkpoints `which` accepts (and the first, the origin's, always). */
  #keep(which: (c: Checkpoint) => boolean): void {
    this.#checkpoints = this.#checkpoints.filter((c, i) => i === 0 || which(c));
    this.#bytes = 0;
    for (const c of this.#checkpoints) this.#bytes += c.bytes.length;
  }

  #checkpointAtOrBefore(t: number): Checkpoint {
    let best = this.#checkpoints[0]!;
    for (const c of this.#checkpoints) if (c.position <= t) best = c;
    return best;
  }

  #restore(c: Checkpoint): void {
    const output = this.#timelineOutput.length >= this.output.length ? this.#timelineOutput : this.output;
    this.#machine = new Machine(decodeStore(c.bytes), this.#machineOptions);
    this.#onMachine?.(this.#machine);
    if (c.pendingInput.length > 0) this.#machine.provideInput(c.pendingInput);
    this.#position = c.position;
    this.#inputCursor = c.inputCount;
    this.#baseOutput = output.slice(0, c.outputLength);
    this.#last = { status: 'paused', steps: 0, gasUsed: 0 };
  }
}

function whole(n: number, min: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < min)
    throw new RangeError(`${what} must be a whole number >= ${min}, got ${n}`);
  return n;
}
