// The source editor: CodeMirror 6 with a language mode, a breakpoint gutter and the
// current line marked.
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { lintGutter } from '@codemirror/lint';
import { Compartment, EditorState, RangeSet, StateEffect, StateField } from '@codemirror/state';
import {
  Decoration,
  type DecorationSet,
  EditorView,
  GutterMarker,
  gutter,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import type { LanguageMode } from './assembly-language.js';

const setBreakpoint = StateEffect.define<{ pos: number; on: boolean }>({
  map: (v, m) => ({ pos: m.mapPos(v.pos), on: v.on }),
});
const clearBreakpoints = StateEffect.define<null>();

class BreakpointMarker extends GutterMarker {
  override toDOM() {
    const s = document.createElement('span');
    s.className = 'cm-breakpoint-marker';
    s.textContent = '●';
    return s;
  }
}
const marker = new BreakpointMarker();

const breakpointField = StateField.define<RangeSet<GutterMarker>>({
  create: () => RangeSet.empty,
  update(set, tr) {
    set = set.map(tr.changes);
    for (const e of tr.effects) {
      if (e.is(clearBreakpoints)) set = RangeSet.empty;
      if (e.is(setBreakpoint)) {
        if (e.value.on) set = set.update({ add: [marker.range(e.value.pos)] });
        else set = set.update({ filter: (from) => from !== e.value.pos });
      }
    }
    return set;
  },
});

const setCurrentLine = StateEffect.define<number | null>();
const currentLineField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects)
      if (e.is(setCurrentLine)) {
        if (e.value === null || e.value > tr.state.doc.lines) deco = Decoration.none;
        else {
          const line = tr.state.doc.line(e.value);
          deco = Decoration.set([Decoration.line({ class: 'cm-current-line' }).range(line.from)]);
        }
      }
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export interface Editor {
  readonly view: EditorView;
  text(): string;
  setText(text: string): void;
  /** 1-based lines holding a breakpoint marker. */
  breakpointLines(): number[];
  setBreakpointLines(lines: readonly number[]): void;
  markLine(line: number | null): void;
  cursorLine(): number;
  /** Switch the language (highlighting, diagnostics, hover help); the text stays. */
  setMode(mode: LanguageMode): void;
}

export function createEditor(
  parent: HTMLElement,
  mode: LanguageMode,
  onBreakpoints: (lines: number[]) => void,
  extraKeys: { key: string; run: () => boolean }[],
): Editor {
  const lines = (state: EditorState): number[] => {
    const out: number[] = [];
    const iter = state.field(breakpointField).iter();
    for (; iter.value; iter.next()) out.push(state.doc.lineAt(iter.from).number);
    return out;
  };
  const toggle = (view: EditorView, pos: number) => {
    const line = view.state.doc.lineAt(pos);
    let on = true;
    view.state.field(breakpointField).between(line.from, line.from, () => {
      on = false;
    });
    view.dispatch({ effects: setBreakpoint.of({ pos: line.from, on }) });
    onBreakpoints(lines(view.state));
  };
  const language = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: '',
      extensions: [
        breakpointField,
        gutter({
          class: 'cm-breakpoint-gutter',
          markers: (v) => v.state.field(breakpointField),
          initialSpacer: () => marker,
          domEventHandlers: {
            mousedown(v, line) {
              toggle(v, line.from);
              return true;
            },
          },
        }),
        lineNumbers(),
        lintGutter(),
        history(),
        currentLineField,
        syntaxHighlighting(defaultHighlightStyle),
        keymap.of([...extraKeys, ...defaultKeymap, ...historyKeymap]),
        language.of([...mode.extensions]),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: text },
        effects: clearBreakpoints.of(null),
      });
    },
    breakpointLines: () => lines(view.state),
    setBreakpointLines(ls) {
      const doc = view.state.doc;
      view.dispatch({
        effects: [
          clearBreakpoints.of(null),
          ...ls
            .filter((l) => l >= 1 && l <= doc.lines)
            .map((l) => setBreakpoint.of({ pos: doc.line(l).from, on: true })),
        ],
      });
    },
    markLine(line) {
      view.dispatch({ effects: setCurrentLine.of(line) });
      if (line !== null && line <= view.state.doc.lines)
        view.dispatch({
          effects: EditorView.scrollIntoView(view.state.doc.line(line).from, { y: 'nearest' }),
        });
    },
    cursorLine: () => view.state.doc.lineAt(view.state.selection.main.head).number,
    setMode(m) {
      view.dispatch({ effects: language.reconfigure([...m.extensions]) });
    },
  };
}
