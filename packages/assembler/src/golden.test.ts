// Golden files: test/golden/NAME.ism against NAME.lst (the listing) or NAME.err
// (the formatted errors). Set UPDATE_GOLDEN=1 to rewrite them after a deliberate change.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AssemblyError, assemble, disassembleProgram } from './index.js';

const dir = new URL('../test/golden/', import.meta.url);
const update = process.env.UPDATE_GOLDEN === '1';
const sources = readdirSync(dir)
  .filter((name) => name.endsWith('.ism'))
  .sort();

function render(name: string, source: string): { ext: '.lst' | '.err'; text: string } {
  try {
    return { ext: '.lst', text: disassembleProgram(assemble(source, { file: name })) };
  } catch (e) {
    if (!(e instanceof AssemblyError)) throw e;
    return { ext: '.err', text: `${e.format()}\n` };
  }
}

describe('golden files', () => {
  it('has golden sources', () => {
    expect(sources.length).toBeGreaterThan(0);
  });

  it.each(sources)('%s', (name) => {
    const source = readFileSync(new URL(name, dir), 'utf8');
    const { ext, text } = render(name, source);
    const expectedFile = new URL(name.replace(/\.ism$/, ext), dir);
    if (update) writeFileSync(expectedFile, text);
    expect(existsSync(expectedFile), `missing ${expectedFile.pathname}; run with UPDATE_GOLDEN=1`).toBe(true);
    expect(text).toBe(readFileSync(expectedFile, 'utf8'));
    if (ext === '.lst') {
      // The listing, exactly as printed, assembles back to the same program.
      const original = assemble(source);
      const again = assemble(text);
      expect(again.code).toEqual(original.code);
      expect(again.data).toEqual(original.data);
      expect(again.labels).toEqual(original.labels);
    }
  });
});
