// docs/language.md stays true: each ```kl block compiles and runs, printing what
// the ```text block after it says.
import { readFileSync } from 'node:fs';
import { Machine } from '@keyvm/interpreter';
import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';

const DOC = readFileSync(new URL('../../../docs/language.md', import.meta.url), 'utf8');
const blocks = [...DOC.matchAll(/```kl\n([\s\S]*?)```\n\n```text\n([\s\S]*?)```/g)].map((m) => ({
  source: m[1]!,
  output: m[2]!,
}));

describe('docs/language.md', () => {
  it('has runnable examples', () => {
    expect(blocks.length).toBe((DOC.match(/```kl\n/g) ?? []).length);
    expect(blocks.length).toBeGreaterThan(5);
  });
  blocks.forEach(({ source, output }, i) => {
    it(`example ${i + 1} prints what the chapter says`, () => {
      const { program } = compile(source, { file: `example${i + 1}.kl` });
      const m = Machine.boot(program, { stackSize: 1024 });
      expect(m.run().status).toBe('halted');
      expect(m.output).toBe(output);
    });
  });
});
