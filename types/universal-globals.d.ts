// The few host globals that every platform KeyVM runs on has (browsers, workers, Node,
// Deno, Bun), for the platform-neutral packages, which compile with `types: []`.
// Only what they use is declared; anything Node- or DOM-only stays a type error.

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: ArrayBuffer | ArrayBufferView): string;
}

declare function structuredClone<T>(value: T): T;
