// Whether a worker's Content Security Policy lets it compile code from strings (the JIT),
// read from its own response headers so the machine never triggers a violation to find out.

/**
 * Whether every enforced policy in `headers` (the values of `Content-Security-Policy`,
 * possibly comma-joined as fetch joins repeated headers) allows `new Function`: a policy
 * allows it when its `script-src` (or, without one, its `default-src`) lists
 * 'unsafe-eval'; a policy with neither directive does not restrict scripts. No header
 * (null or empty) allows it.
 */
export function evalAllowed(headers: string | null): boolean {
  if (headers === null) return true;
  for (const policy of headers.split(',')) {
    const directives = new Map<string, string[]>();
    for (const part of policy.split(';')) {
      const [name, ...values] = part.trim().split(/\s+/);
      // The first directive of a name wins (CSP ignores repeats).
      if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), values);
    }
    const sources = directives.get('script-src') ?? directives.get('default-src');
    if (sources !== undefined && !sources.some((s) => s.toLowerCase() === "'unsafe-eval'")) return false;
  }
  return true;
}
