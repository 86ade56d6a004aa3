// The machine worker: owns the History (the machine, checkpoints, replay) so the page
// never freezes; runs long moves in slices, reports progress and stops on 'pause'.
import { assemble, disassemble, shownName } from '@keyvm/assembler';
import {
  DOMAIN_STATE_NAMES,
  DomainSlot,
  KEY_KIND_NAMES,
  type Key,
  KeyKind,
  MeterRights,
  ObjectKind,
} from '@keyvm/core';
import {
  bootDebugInfo,
  DomainRecorder,
  domainNamer,
  type ImageDebugInfo,
  imageDebugInfo,
  liveDebugInfo,
  withDebugInfo,
} from '@keyvm/image';
import { Machine, type MachineOptions } from '@keyvm/interpreter';
import { decodeStore, encodeStore, hashImage } from './image-io.js';
import { Breakpoints, SourceLines } from './logic/breakpoints.js';
import { type FaultSlot, faultSlot } from './logic/fault-slot.js';
import { diffGraphs, type Graph, graphOf } from './logic/graph.js';
import { type AdvanceResult, History, locate } from './logic/history.js';
import { runBackward, runForward, runTo, stepOut, stepOver } from './logic/stepping.js';
import {
  type Command,
  type DisassemblyLine,
  type MeterView,
  PAGE_CELLS,
  type PageWindow,
  type Reply,
  type Request,
  type SlotView,
  type View,
} from './protocol.js';

/**
 * The JIT where this worker's own policy allows generated code (its server sends the
 * worker script a policy with 'unsafe-eval'; a host without headers restricts nothing),
 * else interpret only (identical results). The page reads that policy and tells the worker
 * in its first message ('policy'); no command runs before it.
 */
let MACHINE_OPTIONS: MachineOptions = { jit: false };
let decideJit: (jit: boolean) => void = () => {};
const jitDecided = new Promise<void>((resolve) => {
  decideJit = (jit) => {
    MACHINE_OPTIONS = { jit };
    resolve();
  };
});

// A policy violation inside the worker would otherwise show only in the worker's own
// console: tell the page, which logs it as an error.
self.addEventListener('securitypolicyviolation', (e) => {
  const v = e as SecurityPolicyViolationEvent;
  post({ type: 'violation', message: `${v.effectiveDirective} refused ${v.blockedURI || 'inline code'}` });
});
/**
 * Most share of a run's time its checkpoints may take: encoding an image is slow while the
 * encoder's code is still cold, so a long run spaces them out rather than pay for them.
 */
const CHECKPOINT_SHARE = 0.1;
/** Steps per slice of a long move; progress is reported and 'pause' heard between slices. */
const SLICE = 250_000;
/** Most disassembly lines sent. */
const MAX_DISASSEMBLY = 20_000;
/** Most console output characters sent (the tail). */
const OUTPUT_TAIL = 64 * 1024;

const post = (reply: Reply, transfer: Transferable[] = []) =>
  (self as unknown as { postMessage(m: Reply, t: Transferable[]): void }).postMessage(reply, transfer);

interface Session {
  history: History;
  lines: SourceLines | null;
  breakpoints: Breakpoints;
  programCodePage: number;
  previousGraph: Graph | null;
  selected: number;
  offset: number;
  /** The page window as the last view showed it: what the next move's changes are against. */
  previousCells: { id: number; cells: readonly string[]; offset: number } | null;
  /** Indices the last move changed in the selected page (kept while scrolling). */
  lastChanged: readonly number[];
  origin: () => Machine;
  /**
   * What each domain was made from, recorded on every machine the history runs (the
   * debug information of the program or image, plus the domains made since): domains
   * are named by the source label they start at, as the CLI names them.
   */
  names: DomainRecorder | null;
}

let session: Session | null = null;
let busy = false;
let pauseRequested = false;
/** When the move being run started (worker clock), for the view's `elapsedMs`. */
let moveStarted = Number.NaN;
const queue: Request[] = [];

self.onmessage = (event: MessageEvent<Request>) => {
  const msg = event.data;
  if (msg.type === 'pause') {
    pauseRequested = true;
    return;
  }
  if (msg.type === 'policy') {
    decideJit(msg.jit);
    return;
  }
  queue.push(msg);
  if (!busy) void drain();
};

async function drain(): Promise<void> {
  busy = true;
  try {
    await jitDecided;
    for (;;) {
      while (queue.length > 0) {
        const msg = queue.shift()!;
        try {
          await handle(msg);
        } catch (e) {
          post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
        }
      }
      const s = warmPending;
      warmPending = null;
      if (s === null) break;
      await warmUp(s);
    }
  } finally {
    busy = false;
  }
}

/** The session whose program has not warmed the interpreter yet. */
let warmPending: Session | null = null;
/** Longest warm-up (milliseconds) and most steps; it ends sooner once the speed stops rising. */
const WARM_MS = 600;
const WARM_STEPS = 40_000_000;
/** Steps between looks at the message queue while warming. */
const WARM_CHUNK = 50_000;
/** Chunks in a row without a new best speed (by 10%) that end the warm-up. */
const WARM_PLATEAU = 60;

/**
 * Warm the interpreter (and the image encoder) up while the page is idle after a load:
 * run the loaded program on a throwaway copy of its machine until its speed stops
 * rising, so the engine has optimised the code the user's run takes before it starts
 * (a fresh worker's first 10M steps otherwise run several times slower than its next).
 * Gives way at once to any request; the session's machine is never touched.
 */
async function warmUp(s: Session): Promise<void> {
  let machine: Machine;
  try {
    machine = s.origin();
  } catch {
    return;
  }
  const start = performance.now();
  let steps = 0;
  let best = 0;
  let flat = 0;
  while (steps < WARM_STEPS && performance.now() - start < WARM_MS && flat < WARM_PLATEAU) {
    if (queue.length > 0 || session !== s) return;
    try {
      const t = performance.now();
      const r = machine.run({ maxSteps: WARM_CHUNK });
      const rate = r.steps / Math.max(0.01, performance.now() - t);
      steps += r.steps;
      encodeStore(machine.store);
      if (r.status !== 'paused') return;
      if (rate > best * 1.1) {
        best = rate;
        flat = 0;
      } else flat++;
    } catch {
      return; // whatever went wrong, the real run will report it
    }
    await yieldToMessages();
  }
}

function start(
  origin: () => Machine,
  lines: SourceLines | null,
  disassembly: DisassemblyLine[],
  fromSource: boolean,
  debug: ImageDebugInfo | undefined,
) {
  let names: DomainRecorder | null = null;
  const history = new History({
    origin,
    machineOptions: MACHINE_OPTIONS,
    maxCheckpointShare: CHECKPOINT_SHARE,
    onMachine: (m) => {
      if (names === null) names = new DomainRecorder(m.store, debug);
      else names.attach(m.store);
    },
  });
  const here = locate(history.machine);
  const root = history.machine.store.kernel.root;
  const codeKey = root ? history.machine.domain(root).slots[DomainSlot.CODE] : undefined;
  const programCodePage = here?.codePage ?? codeKey?.target ?? 0;
  const breakpoints = new Breakpoints();
  breakpoints.bind(lines, programCodePage);
  session = {
    history,
    lines,
    breakpoints,
    programCodePage,
    previousGraph: null,
    selected: here?.domain ?? root,
    offset: 0,
    previousCells: null,
    lastChanged: [],
    origin,
    names,
  };
  post({ type: 'loaded', disassembly, fromSource });
  warmPending = session;
}

function disassemblyOf(machine: Machine, codePage: number): DisassemblyLine[] {
  const page = machine.page(codePage);
  if (page?.kind !== 'data') return [];
  const out: DisassemblyLine[] = [];
  for (const line of disassemble(page.words).split('\n')) {
    const m = /^(\d+): (.*)$/.exec(line);
    if (m) out.push({ pc: Number(m[1]), text: m[2]! });
    if (out.length >= MAX_DISASSEMBLY) break;
  }
  return out;
}

async function handle(msg: Request): Promise<void> {
  switch (msg.type) {
    case 'load-source': {
      const program =
        msg.language === 'kl'
          ? await compileLanguage(msg.source, msg.file)
          : assemble(msg.source, { file: msg.file });
      const budgets: { time?: number; memory?: number } = {};
      if (msg.budgets.gas !== null) budgets.time = msg.budgets.gas;
      if (msg.budgets.memory !== null) budgets.memory = msg.budgets.memory;
      const origin = () => Machine.boot(program, { ...MACHINE_OPTIONS, ...budgets });
      const lines = new SourceLines(program.sourceMap);
      const probe = origin();
      const here = locate(probe);
      const debug = bootDebugInfo(probe.store, program, msg.source);
      start(origin, lines, here ? disassemblyOf(probe, here.codePage) : [], true, debug);
      postView('paused');
      return;
    }
    case 'load-image': {
      const store = decodeStore(msg.bytes); // checked once here; later decodes are of the same bytes
      const debug = liveDebugInfo(store, imageDebugInfo(msg.bytes)); // a bad section is refused, as by the CLI
      const probe = new Machine(store, MACHINE_OPTIONS);
      const bytes = msg.bytes.slice();
      const origin = () => new Machine(decodeStore(bytes), MACHINE_OPTIONS);
      const here = locate(probe);
      const root = probe.store.kernel.root;
      const code = here?.codePage ?? (root ? probe.domain(root).slots[DomainSlot.CODE]?.target : 0) ?? 0;
      start(origin, null, disassemblyOf(probe, code), false, debug);
      postView('paused');
      return;
    }
    case 'breakpoints': {
      // Before anything loaded (a program that did not assemble), there is nothing to bind
      // them to: the next load gets the editor's breakpoints sent again.
      if (session === null) return;
      const s = session;
      s.breakpoints.setLines(msg.lines);
      if (s.lines === null) for (const pc of msg.pcs) s.breakpoints.togglePc(pc);
      return;
    }
    case 'input': {
      const s = need();
      s.history.provideInput(msg.words);
      postView(s.history.last.status);
      return;
    }
    case 'window': {
      // The page pane scrolled: only the cells it now shows.
      if (session === null || session.selected !== msg.id) return;
      session.offset = Math.max(0, msg.offset);
      post({ type: 'page', page: pageWindow(session, false) });
      return;
    }
    case 'select': {
      const s = need();
      if (s.selected !== msg.id) {
        s.previousCells = null;
        s.lastChanged = [];
      }
      s.selected = msg.id;
      s.offset = Math.max(0, msg.offset ?? 0);
      postView(s.history.last.status, false);
      return;
    }
    case 'download': {
      const s = need();
      // With the debug section the CLI saves, so that `keyvm resume` names domains too.
      const store = s.history.machine.store;
      const bytes = withDebugInfo(encodeStore(store), liveDebugInfo(store, s.names?.info()));
      post({ type: 'image', bytes, hash: hashImage(bytes) }, [bytes.buffer]);
      return;
    }
    case 'command':
      await command(msg.command, msg.line, msg.pc);
      return;
    case 'pause':
      return;
  }
}

/**
 * A .kl source compiled by @keyvm/compiler (fetched on first use), its source map in
 * the .kl lines; a compile error reads as the CLI prints it (`file:line:col: error: …`).
 */
async function compileLanguage(source: string, file: string) {
  const { compile, CompileError } = await import('@keyvm/compiler');
  try {
    return compile(source, { file }).program;
  } catch (e) {
    if (e instanceof CompileError) throw new Error(e.format());
    throw e;
  }
}

function need(): Session {
  if (session === null) throw new Error('nothing is loaded: load a program or an image first');
  return session;
}

async function command(cmd: Command, line?: number, pc?: number): Promise<void> {
  const s = need();
  const h = s.history;
  const bp = s.breakpoints;
  pauseRequested = false;
  moveStarted = performance.now();
  switch (cmd) {
    case 'step': {
      const r = h.advance(1);
      postView(r.reason);
      return;
    }
    case 'stepBack':
      h.stepBack();
      postView('paused');
      return;
    case 'reset':
      h.seek(0);
      postView('paused');
      return;
    case 'runBack':
      runBackward(h, bp);
      postView('paused');
      return;
    case 'stepOver':
      return postView(await sliced((limit) => stepOver(h, limit, bp)));
    case 'stepOut':
      return postView(await sliced((limit) => stepOut(h, limit, bp)));
    case 'run':
      return postView(await sliced((limit) => runForward(h, limit, bp)));
    case 'runToLine': {
      const pcs = line !== undefined && s.lines ? s.lines.pcsOf(s.lines.nearestCodeLine(line) ?? line) : [];
      if (pcs.length === 0) throw new Error(`line ${line} holds no instruction`);
      return postView(await sliced((limit) => runTo(h, s.programCodePage, pcs, limit)));
    }
    case 'runToPc':
      if (pc === undefined) throw new Error('run to which pc?');
      return postView(await sliced((limit) => runTo(h, s.programCodePage, [pc], limit)));
  }
}

/** Hand control back to the message loop at once (setTimeout is clamped to 4 ms when nested). */
const channel = new MessageChannel();
const yielded: (() => void)[] = [];
channel.port1.onmessage = () => yielded.shift()?.();
const yieldToMessages = () =>
  new Promise<void>((resolve) => {
    yielded.push(resolve);
    channel.port2.postMessage(null);
  });

/** Milliseconds of running between looks at the message queue ('pause') and progress reports. */
const REPORT_MS = 100;

/** Repeat a move in slices until it stops for a reason of its own or 'pause' arrives. */
async function sliced(move: (limit: number) => AdvanceResult): Promise<string> {
  const h = need().history;
  const started = performance.now();
  const from = h.position;
  for (;;) {
    const sliceStart = performance.now();
    do {
      const r = move(SLICE);
      if (r.reason !== 'limit') return r.reason;
    } while (performance.now() - sliceStart < REPORT_MS);
    const seconds = (performance.now() - started) / 1000;
    post({
      type: 'progress',
      position: h.position,
      stepsPerSecond: Math.round((h.position - from) / seconds),
    });
    await yieldToMessages();
    if (pauseRequested) {
      pauseRequested = false;
      return 'paused';
    }
  }
}

const keyRights = (k: Key): string => {
  switch (k.kind) {
    case KeyKind.page:
      return 'read-write';
    case KeyKind.readPage:
      return 'read-only';
    case KeyKind.meter:
      return k.value & MeterRights.control ? 'control' : 'use';
    case KeyKind.domain:
      return 'gate';
    case KeyKind.resume:
      return 'resume';
    case KeyKind.device:
      return 'use';
    default:
      return '';
  }
};

const SLOT_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(DomainSlot).map(([name, slot]) => [slot, name]),
);

function describe(k: Key): string {
  if (k.kind === KeyKind.null) return 'null';
  if (k.kind === KeyKind.number) return `number ${k.value}`;
  return `${KEY_KIND_NAMES[k.kind]} #${k.target}`;
}

function slotsOf(machine: Machine, domain: number): SlotView[] {
  return machine.domain(domain).slots.map((k, slot) => ({
    slot,
    name: SLOT_NAMES[slot] ?? '',
    kind: KEY_KIND_NAMES[k.kind] ?? `kind ${k.kind}`,
    rights: keyRights(k),
    target: k.kind === KeyKind.null || k.kind === KeyKind.number ? 0 : k.target,
    text: describe(k),
  }));
}

function metersOf(machine: Machine): MeterView[] {
  const out: MeterView[] = [];
  for (const o of machine.store.objects())
    if (o.kind === ObjectKind.meter)
      out.push({
        id: o.id,
        resource: o.resource === 0 ? 'time' : 'memory',
        remaining: o.remaining === Number.POSITIVE_INFINITY ? 'unlimited' : String(o.remaining),
        parent: o.parent?.id ?? 0,
        depth: o.depth,
      });
  return out;
}

function pageWindow(s: Session, moved: boolean): PageWindow {
  const m = s.history.machine;
  const o = m.store.object(s.selected);
  const empty = (title: string): PageWindow => ({
    id: s.selected,
    kind: 'none',
    title,
    size: 0,
    offset: 0,
    cells: [],
    changed: [],
  });
  if (o === undefined) return empty(`#${s.selected} does not exist (now)`);
  let kind: PageWindow['kind'];
  let title: string;
  let all: { length: number; at: (i: number) => string };
  if (o.kind === ObjectKind.dataPage) {
    kind = 'data';
    title = `data page #${o.id} (${o.size} words)`;
    all = { length: o.size, at: (i) => String(o.words[i]) };
  } else if (o.kind === ObjectKind.keyPage) {
    kind = 'keys';
    const view = m.page(o.id);
    const slots = view?.kind === 'keys' ? view.slots : [];
    title = `${o.isDomain ? 'domain' : 'key page'} #${o.id} (${o.size} slots)`;
    all = { length: slots.length, at: (i) => describe(slots[i]!) };
  } else if (o.kind === ObjectKind.meter) {
    kind = 'meter';
    title = `meter #${o.id} (${o.resource === 0 ? 'time' : 'memory'})`;
    all = {
      length: 3,
      at: (i) =>
        [
          `left ${o.remaining === Number.POSITIVE_INFINITY ? 'unlimited' : o.remaining}`,
          `parent ${o.parent ? `#${o.parent.id}` : 'none (prime)'}`,
          `keeper ${describe(o.keeper)}`,
        ][i]!,
    };
  } else {
    kind = 'device';
    title = `device #${o.id} (transcript ${o.transcript.length} words)`;
    all = { length: o.transcript.length, at: (i) => String(o.transcript[i]) };
  }
  const offset = Math.min(s.offset, Math.max(0, all.length - 1));
  const n = Math.min(PAGE_CELLS, all.length - offset);
  const cells = Array.from({ length: Math.max(0, n) }, (_, i) => all.at(offset + i));
  const prev = s.previousCells;
  let changed: number[] = [];
  if (moved) {
    // Against the cells shown before the move, where the two windows overlap.
    if (prev && prev.id === o.id)
      cells.forEach((c, i) => {
        const before = prev.cells[offset + i - prev.offset];
        if (before !== undefined && before !== c) changed.push(offset + i);
      });
    s.lastChanged = changed;
  } else changed = s.lastChanged.filter((i) => i >= offset && i < offset + cells.length);
  s.previousCells = { id: o.id, cells, offset };
  return { id: o.id, kind, title, size: all.length, offset, cells, changed };
}

function postView(status: string, moved = true): void {
  const s = need();
  const h = s.history;
  const m = h.machine;
  const here = locate(m);
  const domainId = here?.domain ?? m.store.kernel.root;
  const d = domainId && m.store.object(domainId) ? m.domain(domainId) : null;
  const graph = graphOf(m.store);
  const diff = diffGraphs(moved ? (s.previousGraph ?? graph) : graph, graph);
  if (moved) s.previousGraph = graph;
  const last = h.last;
  const namer = domainNamer(s.names?.info());
  const nameOf = (id: number): string | null => {
    const name = namer(id);
    return name === undefined ? null : shownName(name);
  };
  let fault: View['fault'] = null;
  if (last.fault) {
    const f = last.fault;
    let page = 0;
    let slot: FaultSlot = { slot: null, operands: [] };
    if (m.store.object(f.domain)) {
      page = m.domain(f.domain).slots[DomainSlot.CODE]?.target ?? 0;
      const code = m.page(page);
      slot = faultSlot(code?.kind === 'data' ? code.words[f.pc] : undefined, m.stack(f.domain), f.message);
    }
    fault = {
      slot: slot.slot,
      slotOperands: slot.operands,
      code: f.code,
      number: f.number,
      message: f.message,
      pc: f.pc,
      domain: f.domain,
      domainName: nameOf(f.domain),
      rootDomain: f.domain === m.store.kernel.root,
      line: page === s.programCodePage && s.lines ? (s.lines.lineOf(f.pc) ?? null) : null,
    };
  }
  const output = h.output;
  const view: View = {
    position: h.position,
    status: last.fault
      ? 'fault'
      : status === 'limit'
        ? 'paused'
        : status === 'condition'
          ? 'stopped (condition)'
          : status,
    location: here,
    line: here && here.codePage === s.programCodePage && s.lines ? (s.lines.lineOf(here.pc) ?? null) : null,
    domain: d
      ? {
          id: d.id,
          name: nameOf(d.id),
          ip: d.ip,
          sp: d.sp,
          state: DOMAIN_STATE_NAMES[d.state] ?? d.stateName,
        }
      : null,
    stack: d ? m.stack(d.id) : [],
    slots: d ? slotsOf(m, d.id) : [],
    meters: metersOf(m),
    output: output.length > OUTPUT_TAIL ? output.slice(-OUTPUT_TAIL) : output,
    fault,
    graph,
    diff,
    page: pageWindow(s, moved),
    checkpoints: h.checkpointPositions.length,
    interval: h.interval,
    programCodePage: s.programCodePage,
    pendingInput: m.pendingInput,
    elapsedMs: moved && !Number.isNaN(moveStarted) ? performance.now() - moveStarted : null,
    jit: MACHINE_OPTIONS.jit !== false && m.jitRefused === undefined,
  };
  moveStarted = Number.NaN;
  post({ type: 'view', view });
}
