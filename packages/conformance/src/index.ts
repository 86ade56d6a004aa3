// @keyvm/conformance (private): the conformance cases and their parser. Each file
// in cases/ is assembly whose comments say how to run it (`; gas: N`) and what
// running it must give (`; expect: status|stack|depth|steps|gas|output|fault …`).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of conformance case files. */
export const CASES_DIR: string = fileURLToPath(new URL('../cases/', import.meta.url));

export interface Expectation {
  /** status, stack, depth, steps, gas, output or fault. */
  readonly what: string;
  readonly value: string;
  /** 1-based line of the expectation in its file. */
  readonly line: number;
}

export interface Case {
  readonly file: string;
  readonly source: string;
  /** Gas for the prime time meter (`; gas: N`), unlimited when absent. */
  readonly gas?: number;
  readonly expectations: readonly Expectation[];
}

/** The case files in `dir`, sorted. */
export function listCases(dir: string = CASES_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ism') || f.endsWith('.kasm'))
    .sort();
}

/** Read a case file and its `; gas:` and `; expect:` lines. */
export function parseCase(dir: string, file: string): Case {
  const source = readFileSync(join(dir, file), 'utf8');
  let gas: number | undefined;
  const expectations: Expectation[] = [];
  source.split('\n').forEach((text, i) => {
    const m = /^\s*;\s*(expect|gas):\s*(.*?)\s*$/.exec(text);
    if (!m) return;
    if (m[1] === 'gas') {
      gas = Number(m[2]);
      return;
    }
    const [, what = '', value = ''] = /^(\S+)\s*(.*)$/.exec(m[2]!) ?? [];
    expectations.push({ what, value, line: i + 1 });
  });
  return gas === undefined ? { file, source, expectations } : { file, source, gas, expectations };
}
