// Messages between the page and the machine worker, and the view of the machine the
// worker sends after every move (plain data: structured-cloned across).

import type { SlotOperand } from './logic/fault-slot.js';
import type { Graph, GraphDiff } from './logic/graph.js';
import type { Location } from './logic/history.js';

/** Most cells of a page the worker sends at once (the pane draws the rows in sight from them). */
export const PAGE_CELLS = 1024;

export type Command =
  | 'step'
  | 'stepOver'
  | 'stepOut'
  | 'stepBack'
  | 'run'
  | 'runBack'
  | 'reset'
  | 'runToLine'
  | 'runToPc';

export type Request =
  | {
      readonly type: 'load-source';
      readonly source: string;
      readonly file: string;
      /** Assembly (tree or flat), or the KeyVM language compiled by @keyvm/compiler. */
      readonly language: Language;
      readonly budgets: Budgets;
    }
  | { readonly type: 'load-image'; readonly bytes: Uint8Array; readonly name: string }
  | { readonly type: 'command'; readonly command: Command; readonly line?: number; readonly pc?: number }
  | { readonly type: 'pause' }
  /** The page's reading of the worker's policy: whether it may compile code (sent first). */
  | { readonly type: 'policy'; readonly jit: boolean }
  | { readonly type: 'breakpoints'; readonly lines: readonly number[]; readonly pcs: readonly number[] }
  | { readonly type: 'input'; readonly words: readonly number[] }
  | { readonly type: 'select'; readonly id: number; readonly offset?: number }
  /** The page pane scrolled: send the cells of object `id` from `offset` (a 'page' reply). */
  | { readonly type: 'window'; readonly id: number; readonly offset: number }
  | { readonly type: 'download' };

/** The languages the editor holds: KeyVM assembly (.ism) or the KeyVM language (.kl). */
export type Language = 'assembly' | 'kl';

export interface Budgets {
  /** Prime time meter (gas); null for unlimited. */
  readonly gas: number | null;
  /** Prime memory meter in words; null for unlimited. */
  readonly memory: number | null;
}

export type Reply =
  | { readonly type: 'view'; readonly view: View }
  | { readonly type: 'page'; readonly page: PageWindow }
  | { readonly type: 'progress'; readonly position: number; readonly stepsPerSecond: number }
  | { readonly type: 'image'; readonly bytes: Uint8Array; readonly hash: string }
  | {
      readonly type: 'loaded';
      readonly disassembly: readonly DisassemblyLine[];
      readonly fromSource: boolean;
    }
  | { readonly type: 'error'; readonly message: string }
  /** A Content Security Policy violation inside the worker (the page logs it as an error). */
  | { readonly type: 'violation'; readonly message: string };

export interface DisassemblyLine {
  readonly pc: number;
  readonly text: string;
}

export interface SlotView {
  readonly slot: number;
  readonly name: string;
  readonly kind: string;
  readonly rights: string;
  /** Object id the key designates (0 for none). */
  readonly target: number;
  readonly text: string;
}

export interface MeterView {
  readonly id: number;
  readonly resource: string;
  readonly remaining: string;
  readonly parent: number;
  readonly depth: number;
}

export interface PageWindow {
  readonly id: number;
  readonly kind: 'data' | 'keys' | 'meter' | 'device' | 'none';
  readonly title: string;
  /** Total words (data) or slots (keys). */
  readonly size: number;
  /** First index shown. */
  readonly offset: number;
  /** Shown cells: a word, or a key described. */
  readonly cells: readonly string[];
  /** Indices (absolute) whose contents changed since the previous view. */
  readonly changed: readonly number[];
}

export interface FaultView {
  readonly code: string;
  readonly number: number;
  readonly message: string;
  readonly pc: number;
  readonly domain: number;
  /**
   * The domain's source name: the code label it was made to start at (the root domain:
   * pc 0), or the `domain` declaration of a .kl program, as shown (a debug section,
   * which an image can shape, may give any text: quoted and escaped as the CLI does);
   * null when not known.
   */
  readonly domainName: string | null;
  /** Whether it is the root domain (the one the machine booted). */
  readonly rootDomain: boolean;
  /** Source line of the faulting instruction, when it ran from the program's code. */
  readonly line: number | null;
  /** The slot the fault is about (derived from the instruction's operands), or null. */
  readonly slot: number | null;
  /** The faulting instruction's slot operands (from the ISA's stack effect). */
  readonly slotOperands: readonly SlotOperand[];
}

export interface View {
  readonly position: number;
  /** The last run's status ('paused' = can go on), or 'condition' / 'limit' for a stop we chose. */
  readonly status: string;
  readonly location: Location | null;
  /** Source line of the next instruction, when it runs from the program's code. */
  readonly line: number | null;
  readonly domain: {
    readonly id: number;
    /** Its source name, as FaultView's `domainName`. */
    readonly name: string | null;
    readonly ip: number;
    readonly sp: number;
    readonly state: string;
  } | null;
  readonly stack: readonly number[];
  readonly slots: readonly SlotView[];
  readonly meters: readonly MeterView[];
  readonly output: string;
  readonly fault: FaultView | null;
  readonly graph: Graph;
  readonly diff: GraphDiff;
  readonly page: PageWindow;
  readonly checkpoints: number;
  readonly interval: number;
  readonly programCodePage: number;
  readonly pendingInput: readonly number[];
  /** Milliseconds the worker spent on the move this view ends (null for a view without one). */
  readonly elapsedMs: number | null;
  /** Whether the machine compiles code (the JIT; its worker's policy allows it) or only interprets. */
  readonly jit: boolean;
}
