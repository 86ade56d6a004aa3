// The playground page: wires the editor, the controls and the panes to the machine
// worker, which owns the machine; the page only sends requests and draws views.

import { unpackImage } from './image-io.js';
import { evalAllowed } from './logic/eval-policy.js';
import {
  type Budgets,
  type Command,
  type DisassemblyLine,
  type Language,
  PAGE_CELLS,
  type PageWindow,
  type Reply,
  type Request,
  type View,
} from './protocol.js';
import { assemblyMode, type LanguageMode } from './ui/assembly-language.js';
import { createEditor } from './ui/editor.js';
import { drawGraph, warmGraphEngine } from './ui/graph-view.js';
import workerUrl from './worker.ts?worker&url';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** examples/*.ism and *.kl, read at build time. */
const EXAMPLES = import.meta.glob(['../../../examples/*.ism', '../../../examples/*.kl'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

const worker = new Worker(workerUrl, { type: 'module' });
const send = (r: Request, transfer: Transferable[] = []) => worker.postMessage(r, transfer);

// Whether the worker may compile code (the JIT) is read from the policy its script is served
// with (a dedicated worker gets its own response's policy), not tried with `new Function`,
// which would report a CSP violation where eval is refused. The page reads it so that the
// worker itself needs no network access; unreadable means interpret (identical results).
void (async () => {
  let jit = false;
  try {
    const res = await fetch(workerUrl, { method: 'HEAD', cache: 'no-store' });
    jit =
      res.ok &&
      evalAllowed(res.headers.get('content-security-policy')) &&
      evalAllowed(res.headers.get('content-security-policy-report-only'));
  } catch {
    // Offline or refused: interpret.
  }
  send({ type: 'policy', jit });
})();

let current: View | null = null;
let disassembly: readonly DisassemblyLine[] = [];
let fromSource = true;
const pcBreakpoints = new Set<number>();

const status = (text: string) => {
  $('status').textContent = text;
};

const editor = createEditor($('editor'), assemblyMode, (lines) => sendBreakpoints(lines), [
  {
    key: 'Ctrl-Enter',
    run: () => {
      load();
      return true;
    },
  },
  {
    key: 'F10',
    run: () => {
      command('step');
      return true;
    },
  },
  {
    key: 'F11',
    run: () => {
      command('stepOver');
      return true;
    },
  },
  {
    key: 'F8',
    run: () => {
      command('run');
      return true;
    },
  },
]);

// ---- the language: assembly, or the KeyVM language (its mode and compiler load on demand) ----

let language: Language = 'assembly';
const languageOf = (name: string): Language => (name.endsWith('.kl') ? 'kl' : 'assembly');
const languageModes: Partial<Record<Language, Promise<LanguageMode>>> = {
  assembly: Promise.resolve(assemblyMode),
};

/** Switch the editor (and what `load` sends) to `lang`; resolves once its mode is in place. */
function setLanguage(lang: Language): Promise<void> {
  language = lang;
  $<HTMLSelectElement>('language').value = lang;
  document.body.dataset.language = lang;
  languageModes[lang] ??= import('./ui/kl-language.js').then((m) => m.languageMode);
  return languageModes[lang]!.then(
    (mode) => {
      if (language === lang) editor.setMode(mode);
    },
    (e) => status(`cannot load the ${lang} mode: ${e instanceof Error ? e.message : String(e)}`),
  );
}

function sendBreakpoints(lines = editor.breakpointLines()) {
  send({ type: 'breakpoints', lines, pcs: [...pcBreakpoints] });
  updateHash();
}

function budgets(): Budgets {
  const read = (id: string) => {
    const v = $<HTMLInputElement>(id).value.trim().replaceAll('_', '');
    if (v === '') return null;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${id} must be a whole number >= 0, not "${v}"`);
    return n;
  };
  return { gas: read('gas'), memory: read('memory') };
}

function load() {
  try {
    send({
      type: 'load-source',
      source: editor.text(),
      file: language === 'kl' ? 'playground.kl' : 'playground.ism',
      language,
      budgets: budgets(),
    });
    sendBreakpoints();
    status('loading…');
  } catch (e) {
    status(e instanceof Error ? e.message : String(e));
  }
}

/** When the last command was sent (page clock): the status shows how long a move took. */
let commandSent = Number.NaN;

function command(c: Command, extra: { line?: number; pc?: number } = {}) {
  commandSent = performance.now();
  send({ type: 'command', command: c, ...extra });
  status(`${c}…`);
}

// ---- permalink: #src=<base64url utf-8>&gas=..&memory=..&bp=1,2 ---------------------------

const toBase64Url = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
};
const fromBase64Url = (s: string) => {
  const bin = atob(s.replaceAll('-', '+').replaceAll('_', '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
};

function updateHash() {
  const p = new URLSearchParams();
  p.set('src', toBase64Url(editor.text()));
  const gas = $<HTMLInputElement>('gas').value.trim();
  const memory = $<HTMLInputElement>('memory').value.trim();
  p.set('gas', gas); // empty: unlimited
  p.set('memory', memory);
  if (language !== 'assembly') p.set('lang', language);
  const bps = editor.breakpointLines();
  if (bps.length) p.set('bp', bps.join(','));
  history.replaceState(null, '', `#${p.toString()}`);
}

/** `#open=PATH&kind=source|image&name=N` (what `keyvm debug FILE` prints): fetch PATH from this site and open it. */
async function openFromHash(p: URLSearchParams): Promise<void> {
  const path = p.get('open')!;
  if (!/^[\w./-]+$/.test(path) || path.includes('..')) return status(`will not open "${path}"`);
  const name = p.get('name') ?? path;
  try {
    const res = await fetch(new URL(path, location.href));
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (p.get('kind') === 'image') {
      send({ type: 'load-image', bytes: await unpackImage(bytes), name });
      status(`opening ${name}…`);
    } else {
      await setLanguage(languageOf(name));
      editor.setText(new TextDecoder().decode(bytes));
      load();
    }
  } catch (e) {
    status(`cannot open ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The permalink's program and settings into the page; resolves true when it held a program. */
async function fromHash(): Promise<boolean> {
  const p = new URLSearchParams(location.hash.slice(1));
  if (p.has('open')) {
    void openFromHash(p);
    return true;
  }
  const src = p.get('src');
  if (src === null) return false;
  await setLanguage(p.get('lang') === 'kl' ? 'kl' : 'assembly');
  try {
    editor.setText(fromBase64Url(src));
  } catch {
    status('the permalink holds no readable program');
    return false;
  }
  // Absent: the defaults (the CLI's budgets); present and empty: unlimited.
  for (const id of ['gas', 'memory']) {
    const v = p.get(id);
    if (v !== null) $<HTMLInputElement>(id).value = v;
  }
  const bp = (p.get('bp') ?? '')
    .split(',')
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n > 0);
  editor.setBreakpointLines(bp);
  return true;
}

// ---- controls -------------------------------------------------------------------------

for (const c of ['run', 'step', 'stepOver', 'stepOut', 'stepBack', 'runBack', 'reset'] as const)
  $(c).addEventListener('click', () => command(c));
$('load').addEventListener('click', load);
$('pause').addEventListener('click', () => send({ type: 'pause' }));
$('runToCursor').addEventListener('click', () => command('runToLine', { line: editor.cursorLine() }));
$('download').addEventListener('click', () => send({ type: 'download' }));
$('share').addEventListener('click', () => {
  updateHash();
  void navigator.clipboard?.writeText(location.href).catch(() => undefined);
  status('permalink in the address bar');
});
$('send').addEventListener('click', () => {
  const text = $<HTMLInputElement>('input').value.trim();
  const words = text === '' ? [] : text.split(/[\s,]+/).map(Number);
  if (words.some((w) => !Number.isSafeInteger(w)))
    return status(`input must be whole numbers, not "${text}"`);
  send({ type: 'input', words });
  $<HTMLInputElement>('input').value = '';
});
$('page').addEventListener('scroll', () => {
  if (pageFrame === 0) pageFrame = requestAnimationFrame(drawPage);
});
for (const id of ['gas', 'memory']) $(id).addEventListener('change', updateHash);

const examples = $<HTMLSelectElement>('examples');
for (const [label, lang] of [
  ['assembly', 'assembly'],
  ['KeyVM language', 'kl'],
] as const) {
  const group = document.createElement('optgroup');
  group.label = label;
  for (const path of Object.keys(EXAMPLES).sort()) {
    if (languageOf(path) !== lang) continue;
    const o = document.createElement('option');
    o.value = path;
    o.textContent = path.slice(path.lastIndexOf('/') + 1);
    group.append(o);
  }
  examples.append(group);
}
examples.addEventListener('change', async () => {
  const text = EXAMPLES[examples.value];
  if (text === undefined) return;
  await setLanguage(languageOf(examples.value));
  editor.setText(text);
  updateHash();
  load();
});
$<HTMLSelectElement>('language').addEventListener('change', async (e) => {
  await setLanguage((e.target as HTMLSelectElement).value === 'kl' ? 'kl' : 'assembly');
  updateHash();
  load();
});

async function openImage(file: File) {
  try {
    const bytes = await unpackImage(new Uint8Array(await file.arrayBuffer()));
    send({ type: 'load-image', bytes, name: file.name }, [bytes.buffer]);
    status(`opening ${file.name}…`);
  } catch (e) {
    status(`cannot open ${file.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
$<HTMLInputElement>('open').addEventListener('change', (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) void openImage(f);
});
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  const f = e.dataTransfer?.files[0];
  if (f) void openImage(f);
});

function select(id: number, offset = 0) {
  send({ type: 'select', id, offset });
}

// ---- drawing views ------------------------------------------------------------------------

function text(tag: string, content: string, cls?: string) {
  const e = document.createElement(tag);
  e.textContent = content;
  if (cls) e.className = cls;
  return e;
}

function drawDisassembly(v: View | null) {
  const list = $('disasm');
  list.replaceChildren(
    ...disassembly.map((d) => {
      const li = text('li', `${String(d.pc).padStart(4, '0')}: ${d.text}`) as HTMLLIElement;
      li.dataset.pc = String(d.pc);
      if (v?.location && v.location.codePage === v.programCodePage && v.location.pc === d.pc)
        li.className = 'pc';
      if (pcBreakpoints.has(d.pc)) li.classList.add('bp');
      if (!fromSource)
        li.addEventListener('click', () => {
          if (pcBreakpoints.has(d.pc)) pcBreakpoints.delete(d.pc);
          else pcBreakpoints.add(d.pc);
          sendBreakpoints();
          drawDisassembly(current);
        });
      return li;
    }),
  );
  list.querySelector('li.pc')?.scrollIntoView({ block: 'nearest' });
}

// ---- the page pane: a virtual list (only the rows in sight are drawn, from a window of
// cells the worker sends; a 16M-word page scrolls like a short one) ------------------------

/** Row height in pixels (style.css gives #page-rows div the same). */
const ROW_H = 18;
/** Tallest spacer drawn; past it a pixel of scrolling stands for more than one row. */
const MAX_SPACER_PX = 4_000_000;
let pageView: PageWindow | null = null;
let pageFrame = 0;
/** The offset of the window asked for and not yet received (no second ask for it). */
let pageAsked = -1;

const pageGeometry = (p: PageWindow) => {
  const cols = p.kind === 'data' || p.kind === 'device' ? 8 : 1;
  const rows = Math.ceil(p.size / cols);
  return { cols, rows, height: Math.min(rows * ROW_H, MAX_SPACER_PX) };
};

function showPage(p: PageWindow) {
  const host = $('page');
  if (pageView?.id !== p.id) host.scrollTop = 0;
  pageView = p;
  pageAsked = -1;
  $('page-title').textContent = p.title;
  host.dataset.size = String(p.size);
  drawPage();
}

function drawPage() {
  pageFrame = 0;
  const p = pageView;
  if (p === null) return;
  const host = $('page');
  const g = pageGeometry(p);
  $('page-spacer').style.height = `${g.height}px`;
  const inSight = Math.ceil(host.clientHeight / ROW_H) + 1;
  const scrollable = g.height - host.clientHeight;
  // Scaled when the spacer is capped: the scroll fraction picks the row.
  const first =
    g.rows * ROW_H <= MAX_SPACER_PX
      ? Math.floor(host.scrollTop / ROW_H)
      : scrollable <= 0
        ? 0
        : Math.round((host.scrollTop / scrollable) * Math.max(0, g.rows - inSight + 1));
  const last = Math.min(g.rows, first + inSight);
  const rowsEl = $('page-rows');
  rowsEl.style.top = `${g.rows * ROW_H <= MAX_SPACER_PX ? first * ROW_H : host.scrollTop}px`;
  const changed = new Set(p.changed);
  let missing = false;
  const rows: HTMLElement[] = [];
  for (let r = first; r < last; r++) {
    const row = document.createElement('div');
    for (let c = 0; c < g.cols; c++) {
      const idx = r * g.cols + c;
      if (idx >= p.size) break;
      const cell = p.cells[idx - p.offset];
      if (cell === undefined) missing = true;
      const span = document.createElement('span');
      span.append(text('i', String(idx)), cell ?? '…');
      span.dataset.index = String(idx);
      if (changed.has(idx)) span.className = 'changed';
      row.append(span);
    }
    rows.push(row);
  }
  rowsEl.replaceChildren(...rows);
  if (missing) {
    // Ask for a window around what is in sight.
    const want = Math.max(0, first * g.cols - Math.floor((PAGE_CELLS - (last - first) * g.cols) / 2));
    const offset = want - (want % g.cols);
    if (offset !== pageAsked) {
      pageAsked = offset;
      send({ type: 'window', id: p.id, offset });
    }
  }
}

/** A domain's source name (as shown: escaped by the worker) and a space; '' when not known. */
const named = (name: string | null): string => (name === null ? '' : `${name} `);

function draw(v: View) {
  current = v;
  // How long the move took, from the click to its view (the worker's share in the title).
  const took = v.elapsedMs !== null && !Number.isNaN(commandSent) ? performance.now() - commandSent : null;
  const sent = commandSent;
  const drawStart = performance.now();
  commandSent = Number.NaN;
  if (took !== null) document.body.dataset.moveMs = took.toFixed(1);
  document.body.dataset.jit = v.jit ? 'on' : 'off';
  status(
    `step ${v.position} · ${v.status}${v.checkpoints ? ` · ${v.checkpoints} checkpoints every ${v.interval}` : ''}` +
      (took !== null && took >= 100 ? ` · ${(took / 1000).toFixed(2)} s` : ''),
  );
  $('status').title =
    (took !== null
      ? `the last move took ${took.toFixed(0)} ms (${v.elapsedMs!.toFixed(0)} ms in the worker); `
      : '') +
    (v.jit ? 'the machine compiles code (JIT)' : 'the machine interprets (its worker may not compile code)');
  editor.markLine(v.line);
  drawDisassembly(v);
  const d = v.domain;
  $('registers').textContent = d
    ? `domain ${named(d.name)}#${d.id}  ip ${d.ip}  sp ${d.sp}  state ${d.state}${v.line ? `  line ${v.line}` : ''}`
    : 'no domain';
  $('stack').replaceChildren(...v.stack.map((w) => text('li', String(w))));
  const table = $('slots');
  table.replaceChildren(
    ...v.slots
      .filter((s) => s.kind !== 'null')
      .map((s) => {
        const tr = document.createElement('tr');
        tr.append(
          text('td', `${s.slot} ${s.name}`),
          text('td', s.kind),
          text('td', s.rights),
          text('td', s.target ? `#${s.target}` : s.text),
        );
        if (s.target) {
          tr.className = 'link';
          tr.addEventListener('click', () => select(s.target));
        }
        return tr;
      }),
  );
  $('meters').replaceChildren(
    ...v.meters.map((m) => {
      const li = text('li', `${'  '.repeat(m.depth)}#${m.id} ${m.resource}: ${m.remaining}`);
      li.style.paddingLeft = `${m.depth}em`;
      li.addEventListener('click', () => select(m.id));
      return li;
    }),
  );
  $('console').textContent = v.output;
  $('fault').textContent = v.fault
    ? `fault ${v.fault.code} (${v.fault.number}) at pc ${v.fault.pc} in ${v.fault.rootDomain ? 'the root domain' : 'domain'} ${named(v.fault.domainName)}#${v.fault.domain}${v.fault.line ? `, line ${v.fault.line}` : ''}${v.fault.slot !== null ? `, slot ${v.fault.slot}` : ''}: ${v.fault.message}` +
      (v.fault.slotOperands.length
        ? `\noperands: ${v.fault.slotOperands.map((o) => `${o.operand} ${o.value}${o.name ? ` (${o.name})` : ''}`).join(', ')}`
        : '')
    : v.pendingInput.length
      ? `input waiting: ${v.pendingInput.join(' ')}`
      : '';
  showPage(v.page);
  $('graph-count').textContent = `${v.graph.nodes.length} objects, ${v.graph.edges.length} keys`;
  document.body.dataset.panesMs = (performance.now() - drawStart).toFixed(0);
  void drawGraph($('graph'), v.graph, v.diff, v.page.id, (id) => select(id)).then((drawn) => {
    if (!drawn) return; // a newer view overtook this one
    document.body.dataset.drawn = String(v.position);
    // The page clock from the click to this graph drawn (the bench's run-to-drawn figure).
    if (!Number.isNaN(sent)) document.body.dataset.drawnMs = (performance.now() - sent).toFixed(0);
    // Once the page shows, compile the layout engine's code in the background (bounded).
    void warmGraphEngine().then(() => {
      document.body.dataset.graphWarm = 'true';
    });
  });
}

worker.onmessage = (e: MessageEvent<Reply>) => {
  const r = e.data;
  switch (r.type) {
    case 'view':
      draw(r.view);
      break;
    case 'page':
      if (r.page.id === pageView?.id) showPage(r.page);
      break;
    case 'loaded':
      disassembly = r.disassembly;
      fromSource = r.fromSource;
      pcBreakpoints.clear();
      break;
    case 'progress':
      status(`running… step ${r.position} (${r.stepsPerSecond.toLocaleString('en')} steps/s)`);
      break;
    case 'image': {
      const blob = new Blob([r.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'machine.kvmi';
      document.body.append(a);
      a.click();
      a.remove();
      status(`downloaded machine.kvmi (sha256 ${r.hash.slice(0, 16)}…)`);
      $('download').dataset.hash = r.hash;
      break;
    }
    case 'violation':
      console.error(`CSP violation in the machine worker: ${r.message}`);
      break;
    case 'error':
      status(`error: ${r.message}`);
      $('fault').textContent = r.message;
      break;
  }
};

// A permalink pasted into the address bar of an open page.
window.addEventListener('hashchange', async () => {
  if ((await fromHash()) && !location.hash.includes('open=')) load();
});

// Start: the permalink's program, else the first example.
if (!(await fromHash())) {
  const first =
    Object.keys(EXAMPLES)
      .sort()
      .find((p) => p.endsWith('hello.ism')) ?? Object.keys(EXAMPLES)[0];
  if (first) {
    examples.value = first;
    editor.setText(EXAMPLES[first]!);
  }
  load();
} else if (!location.hash.includes('open=')) load();
