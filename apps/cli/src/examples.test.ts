// Every program in examples/ runs through the real command with the outcome its
// opening comment promises.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, EXAMPLES, keyvm, keyvmJson } from './spawn.test-helpers.js';

interface Expected {
  readonly args?: readonly string[];
  readonly exit: number;
  readonly status: string;
  readonly stack?: readonly number[];
  readonly output?: string;
  readonly fault?: string;
}

const EXPECTED: Readonly<Record<string, Expected>> = {
  'hello.ism': { exit: 0, status: 'halted', stack: [14], output: 'Hello, KeyVM!\n' },
  'fact.ism': { args: ['5'], exit: 0, status: 'halted', stack: [120], output: '120\n' },
  'readloop.ism': {
    args: ['--input', 'Hi, you!'],
    exit: 0,
    status: 'halted',
    stack: [8],
    output: 'HI, YOU!',
  },
  'keyvm-seed.ism': { exit: 1, status: 'fault', fault: 'stack-overflow', output: '' },
  'keyvm-tree.ism': { exit: 0, status: 'halted', stack: [3, 2, -4, 1, -1], output: '' },
  'sandbox.ism': {
    exit: 0,
    status: 'halted',
    stack: [4],
    output: [
      'parent: built a child with a read-only key to my data and 20000 gas',
      'parent: calling the child',
      'child:  the secret is 42',
      'child:  overwriting it through my read-only key...',
      'keeper: the child faulted with code 4 (rights-violation); answering its caller',
      'parent: the call came back with fault code 4',
      "parent: the child's meter has 15025 gas left",
      'parent: the secret is still 42',
      '',
    ].join('\n'),
  },
  'meter-keeper.ism': {
    exit: 0,
    status: 'halted',
    stack: [500500, 1],
    output: [
      'parent: the worker sums 1..1000 on a meter of 2000 gas',
      ...Array.from({ length: 7 }, (_, i) => `keeper: the worker's meter ran dry; refill #${i + 1}`),
      'parent: the worker returned 500500 after 7 refills; unmetered answer n(n+1)/2 = 500500',
      '',
    ].join('\n'),
  },
  'ping-pong.ism': {
    exit: 0,
    status: 'halted',
    stack: [10],
    output: [
      ...[0, 2, 4, 6, 8].flatMap((n) => [`ping ${n}`, `  pong ${n + 1}`]),
      '5 round trips: each CALLW made a resume key, each RETURN used one up',
      '',
    ].join('\n'),
  },
  'revocation.ism': {
    exit: 1,
    status: 'fault',
    fault: 'null-key',
    output: [
      'reader: read 42 through the key I was given; keeping it',
      'owner:  SEVER the page',
      'owner:  my fresh key still reads 42',
      "reader: my key's type is now 0 (null); reading through it anyway...",
      '',
    ].join('\n'),
  },
};

beforeAll(assertBuilt);

describe.concurrent('examples/', () => {
  const files = readdirSync(EXAMPLES).filter((f) => /\.(ism|kasm)$/.test(f));

  it('has an expectation for every example, and every example opens with what it shows', async () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const f of files)
      expect(readFileSync(join(EXAMPLES, f), 'utf8')).toMatch(new RegExp(`^; ${f} - \\S`));
  });

  it.each(Object.entries(EXPECTED))('%s', async (name, want) => {
    const r = await keyvmJson(['run', join(EXAMPLES, name), ...(want.args ?? [])]);
    expect(r.code).toBe(want.exit);
    expect(r.json.status).toBe(want.status);
    if (want.stack) expect(r.json.stack).toEqual(want.stack);
    if (want.output !== undefined) expect(r.json.output).toBe(want.output);
    if (want.fault) expect((r.json.fault as { code: string }).code).toBe(want.fault);
  });

  it('keyvm-seed.ism runs out of gas under a small --gas (exit 3)', async () => {
    const r = await keyvm(['run', join(EXAMPLES, 'keyvm-seed.ism'), '--gas', '100']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^out of gas after 100 steps, 100 gas; stack \[/);
  });

  it('the demo (sandbox.ism) prints its story on stdout and its summary on stderr', async () => {
    const r = await keyvm(['run', join(EXAMPLES, 'sandbox.ism')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(EXPECTED['sandbox.ism']!.output);
    expect(r.stderr).toMatch(/^halted after [\d,]+ steps, [\d,]+ gas; stack \[4\]\n$/);
  });
});
