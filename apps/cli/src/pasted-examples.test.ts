// The READMEs' examples as pasted: every `sh` block line of README.md and
// apps/cli/README.md runs in order through a shell, in a scratch copy of the clone's
// layout, with the exit code its comment names (else 0); `console` transcripts must
// print what they show.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, EXAMPLES, REPO, tempDir } from './spawn.test-helpers.js';

/** The install and test commands: CI runs those itself (the suite runs inside them). */
const INSTALL = 'npx -y pnpm@10.34.8 install --frozen-lockfile';

interface Block {
  readonly lang: string;
  readonly lines: readonly string[];
}

/** Fenced code blocks of a markdown file. */
function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const m of markdown.matchAll(fence)) found.push({ lang: m[1]!, lines: m[2]!.split('\n') });
  return found;
}

/** The command lines of an `sh` block, with the install prefix taken off (it has run). */
function commands(block: Block): string[] {
  const out: string[] = [];
  for (const raw of block.lines) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith(`${INSTALL} && `)) line = line.slice(INSTALL.length + 4);
    if (line.startsWith('npx -y pnpm@')) continue;
    out.push(line);
  }
  return out;
}

/** The exit code a line's comment promises: `# exits 3: …`, else 0. */
const expectedExit = (line: string): number => Number(/#.*\bexits (\d+)/.exec(line)?.[1] ?? 0);

let root: string;

/** A scratch directory shaped like the clone's root: the launcher, examples (copied), node_modules. */
function scratch(): string {
  const dir = tempDir();
  symlinkSync(join(REPO, 'keyvm'), join(dir, 'keyvm'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  cpSync(EXAMPLES, join(dir, 'examples'), { recursive: true });
  // `keyvm` on PATH, as the README's alias makes it.
  mkdirSync(join(dir, '.bin'));
  symlinkSync(join(REPO, 'keyvm'), join(dir, '.bin', 'keyvm'));
  return dir;
}

function sh(line: string, cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', line], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${join(cwd, '.bin')}:${process.env.PATH ?? ''}`,
      NO_COLOR: '1',
      KEYVM_DEBUG: '',
      // npx must find the clone's own keyvm, never fetch a package of that name.
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  assertBuilt();
  root = scratch();
});

for (const readme of ['README.md', 'apps/cli/README.md']) {
  const text = readFileSync(join(REPO, readme), 'utf8');
  const shLines = blocks(text)
    .filter((b) => b.lang === 'sh')
    .flatMap(commands);

  describe.sequential(`${readme}: sh examples as pasted`, () => {
    it('has examples to run', () => {
      expect(shLines.length).toBeGreaterThan(0);
    });
    for (const line of shLines) {
      it(line, () => {
        const r = sh(line, root);
        expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: expectedExit(line) });
        // Only keyvm's own words: no package manager banner or lifecycle lines.
        expect(r.stdout).not.toMatch(/^> |ELIFECYCLE/m);
        expect(r.stderr).not.toMatch(/ELIFECYCLE|ERR_PNPM|npm (ERR|error)/);
        if (/--json/.test(line)) expect(() => JSON.parse(r.stdout)).not.toThrow();
        if (/--svg > (\S+)/.test(line)) {
          const out = readFileSync(join(root, /--svg > (\S+)/.exec(line)![1]!), 'utf8');
          expect(out).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s>]/);
          expect(out.trimEnd()).toMatch(/<\/svg>$/);
        }
        if (/hello\.ism/.test(line) && !/--save/.test(line)) expect(r.stdout).toContain('Hello, KeyVM!');
      });
    }
  });

  const transcripts = blocks(text).filter((b) => b.lang === 'console');
  if (transcripts.length === 0) continue;
  describe.sequential(`${readme}: console transcripts`, () => {
    const dir = scratch();
    for (const block of transcripts) {
      // `$ command` lines, each followed by what it prints (stdout and stderr as on a terminal).
      const steps: { command: string; expected: string[] }[] = [];
      for (const line of block.lines) {
        if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
        else if (line !== '' || steps.length > 0) steps.at(-1)?.expected.push(line);
      }
      for (const step of steps) {
        it(step.command, () => {
          const r = sh(`${step.command} 2>&1`, dir);
          const expected = step.expected.join('\n').trimEnd();
          expect(r.stdout.trimEnd()).toBe(expected);
        });
      }
    }
  });
}
