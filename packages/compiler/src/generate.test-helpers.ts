// Random well-typed programs for the differential property: functions (some
// recursive with a depth bound), locals, loops, if/else, arrays and prints, as
// source text. Driven by a seeded PRNG so a failing case replays from its seed.

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scope {
  ints: string[];
  /** Variables never assigned (a recursive function's depth counter). */
  fixed?: string[];
  arrays: { name: string; length: number }[];
  funcs: { name: string; arity: number }[];
}

export function randomProgram(seed: number): string {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  let counter = 0;
  const fresh = (p: string) => `${p}${counter++}`;
  const lines: string[] = [];

  const literal = (): string => {
    const r = rnd();
    if (r < 0.6) return String(int(10));
    if (r < 0.8) return String(int(1000) - 500);
    return pick(['2147483647', '-2147483648', '65536', '-1', '1000003']);
  };

  const expr = (s: Scope, depth: number): string => {
    const r = rnd();
    if (depth <= 0 || r < 0.25) return s.ints.length > 0 && rnd() < 0.6 ? pick(s.ints) : literal();
    if (r < 0.65) {
      const op = pick(['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>', '+', '-', '*']);
      const left = expr(s, depth - 1);
      let right = expr(s, depth - 1);
      // Mostly non-zero divisors; sometimes any (a division by zero is a fault on both sides).
      if ((op === '/' || op === '%') && rnd() < 0.9) right = `(${right} | 1)`;
      return `(${left} ${op} ${right})`;
    }
    if (r < 0.72) return `${pick(['-', '~'])}${expr(s, depth - 1)}`;
    if (r < 0.85 && s.arrays.length > 0) {
      const a = pick(s.arrays);
      return `${a.name}[${expr(s, depth - 1)} % len(${a.name})]`;
    }
    if (s.funcs.length > 0) {
      const f = pick(s.funcs);
      const args = Array.from({ length: f.arity }, () => expr(s, depth - 1));
      return `${f.name}(${args.join(', ')})`;
    }
    return literal();
  };

  const cond = (s: Scope, depth: number): string => {
    const r = rnd();
    if (r < 0.6 || depth <= 0)
      return `${expr(s, 1)} ${pick(['<', '<=', '>', '>=', '==', '!='])} ${expr(s, 1)}`;
    if (r < 0.75) return `not (${cond(s, depth - 1)})`;
    return `(${cond(s, depth - 1)}) ${pick(['and', 'or'])} (${cond(s, depth - 1)})`;
  };

  const block = (s: Scope, indent: string, depth: number, budget: number): void => {
    const local: Scope = { ints: [...s.ints], arrays: [...s.arrays], funcs: s.funcs, fixed: s.fixed ?? [] };
    const assignable = () => local.ints.filter((v) => !local.fixed!.includes(v));
    const n = 1 + int(budget);
    for (let i = 0; i < n; i++) {
      const r = rnd();
      if (r < 0.3 || local.ints.length === 0) {
        const v = fresh('v');
        lines.push(`${indent}var int ${v} = ${expr(local, 2)}`);
        local.ints.push(v);
      } else if (r < 0.55 && assignable().length > 0) {
        lines.push(`${indent}${pick(assignable())} = ${expr(local, 2)}`);
      } else if (r < 0.62 && local.arrays.length > 0) {
        const a = pick(local.arrays);
        lines.push(`${indent}${a.name}[${expr(local, 1)} % len(${a.name})] = ${expr(local, 2)}`);
      } else if (r < 0.72 && depth > 0) {
        lines.push(`${indent}if ${cond(local, 1)}:`);
        block(local, `${indent}    `, depth - 1, 2);
        if (rnd() < 0.5) {
          lines.push(`${indent}else:`);
          block(local, `${indent}    `, depth - 1, 2);
        }
      } else if (r < 0.8 && depth > 0) {
        const i = fresh('i');
        const step = pick(['', ' step 2', ' step -1', ' step 3']);
        const [from, to] = step === ' step -1' ? [int(6), -int(3)] : [-int(3), int(8)];
        lines.push(`${indent}for ${i} from ${from} to ${to}${step}:`);
        block(
          { ...local, ints: [...local.ints, i], fixed: [...local.fixed!, i] },
          `${indent}    `,
          depth - 1,
          2,
        );
      } else if (r < 0.86 && depth > 0) {
        const w = fresh('w');
        lines.push(`${indent}var int ${w} = 0`);
        lines.push(`${indent}while ${w} < ${1 + int(5)}:`);
        lines.push(`${indent}    ${w} = ${w} + 1`);
        block({ ...local, fixed: [...local.fixed!, w] }, `${indent}    `, depth - 1, 2);
        local.ints.push(w);
      } else if (r < 0.92) {
        lines.push(`${indent}print(${expr(local, 2)}, ${cond(local, 0)})`);
      } else {
        lines.push(`${indent}print(${pick(local.ints)})`);
      }
    }
  };

  const global: Scope = { ints: [], arrays: [], funcs: [] };
  // Functions: each may call earlier ones; a recursive one counts down a bounded depth.
  const nf = int(4);
  for (let f = 0; f < nf; f++) {
    const name = fresh('f');
    const arity = 1 + int(3);
    const params = Array.from({ length: arity }, () => fresh('p'));
    lines.push(`def ${name}(${params.map((p) => `int ${p}`).join(', ')}) -> (int):`);
    const s: Scope = { ints: params, arrays: [], funcs: [...global.funcs], fixed: [params[0]!] };
    block(s, '    ', 1, 3);
    if (rnd() < 0.5) {
      // Recursion: the first parameter, taken into 0..7, counts down.
      lines.push(`    if (${params[0]} & 7) > 0:`);
      const rest = params.slice(1).map(() => expr(s, 1));
      lines.push(
        `        return ${name}((${params[0]} & 7) - 1${rest.map((r) => `, ${r}`).join('')}) + ${expr(s, 1)}`,
      );
    }
    lines.push(`    return ${expr(s, 2)}`);
    global.funcs.push({ name, arity });
  }
  const na = int(3);
  for (let a = 0; a < na; a++) {
    const name = fresh('a');
    const length = 1 + int(5);
    const items = Array.from({ length }, () => expr(global, 1));
    lines.push(`var int[] ${name} = [${items.join(', ')}]`);
    global.arrays.push({ name, length });
  }
  block(global, '', 2, 6);
  lines.push(`print(${global.ints.length > 0 ? pick(global.ints) : 0})`);
  return `${lines.join('\n')}\n`;
}
