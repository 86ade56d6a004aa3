// docs/tutorial.md is tested as written: every `$ keyvm …` block runs through the real
// command, its stdout must be the lines that follow, and `! ` lines must appear on stderr.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, keyvm, REPO, tempDir } from './spawn.test-helpers.js';

interface Step {
  readonly argv: string[];
  readonly stdout: string;
  readonly stderr: string[];
}

/** The `$ keyvm …` commands of the console blocks, in order, with what they print. */
function commands(markdown: string): Step[] {
  const steps: Step[] = [];
  for (const block of markdown.matchAll(/```console\n([\s\S]*?)```/g)) {
    let current: { argv: string[]; stdout: string[]; stderr: string[] } | undefined;
    const flush = () => {
      if (current)
        steps.push({
          argv: current.argv,
          stdout: current.stdout.map((l) => `${l}\n`).join(''),
          stderr: current.stderr,
        });
    };
    for (const line of block[1]!.split('\n')) {
      if (line.startsWith('$ keyvm ')) {
        flush();
        current = { argv: line.slice('$ keyvm '.length).split(' '), stdout: [], stderr: [] };
      } else if (line === '') {
      } else if (line.startsWith('! ')) current?.stderr.push(line.slice(2));
      else current?.stdout.push(line);
    }
    flush();
  }
  return steps;
}

const TUTORIAL = readFileSync(join(REPO, 'docs/tutorial.md'), 'utf8');

beforeAll(assertBuilt);

describe('docs/tutorial.md', () => {
  const steps = commands(TUTORIAL);
  const dir = tempDir();

  it('has a runnable command for each step', () => {
    expect(steps.length).toBeGreaterThanOrEqual(8);
    for (const n of ['01', '02', '03', '04', '05', '06'])
      expect(steps.some((s) => s.argv.some((a) => a.includes(`tutorial/${n}-`)))).toBe(true);
  });

  it.each(steps.map((s) => [s.argv.join(' '), s] as const))('keyvm %s', async (_, step) => {
    // Images are written to and read from a temporary directory, not the repository.
    const argv = step.argv.map((a) => (a.endsWith('.kvmi') ? join(dir, a) : a));
    const r = await keyvm(argv);
    expect(r.stdout).toBe(step.stdout);
    const stderr = r.stderr.replaceAll(dir, '').split('\n');
    for (const line of step.stderr) expect(stderr, r.stderr).toContain(line);
  });
});
