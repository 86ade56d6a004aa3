// Tests for reading whether a worker's CSP allows the JIT (new Function).
import { describe, expect, it } from 'vitest';
import { evalAllowed } from './eval-policy.js';

describe('evalAllowed', () => {
  it('allows eval without a policy or without script directives', () => {
    expect(evalAllowed(null)).toBe(true);
    expect(evalAllowed('')).toBe(true);
    expect(evalAllowed("img-src 'self'; object-src 'none'")).toBe(true);
  });

  it("reads script-src, falling back to default-src, for 'unsafe-eval'", () => {
    expect(evalAllowed("default-src 'self'; script-src 'self' 'unsafe-eval'")).toBe(true);
    expect(evalAllowed("default-src 'self'; script-src 'self'")).toBe(false);
    expect(evalAllowed("default-src 'self' 'unsafe-eval'")).toBe(true);
    expect(evalAllowed("default-src 'self'")).toBe(false);
    // script-src replaces default-src entirely.
    expect(evalAllowed("default-src 'unsafe-eval'; script-src 'self'")).toBe(false);
    expect(evalAllowed("SCRIPT-SRC 'self' 'UNSAFE-EVAL'")).toBe(true);
  });

  it('needs every policy to allow it, and takes the first of a repeated directive', () => {
    expect(evalAllowed("script-src 'unsafe-eval', script-src 'self'")).toBe(false);
    expect(evalAllowed("script-src 'unsafe-eval', img-src 'none'")).toBe(true);
    expect(evalAllowed("script-src 'self'; script-src 'unsafe-eval'")).toBe(false);
    // 'unsafe-eval' as a word elsewhere does not count.
    expect(evalAllowed("script-src 'self'; style-src 'unsafe-eval'")).toBe(false);
  });
});
