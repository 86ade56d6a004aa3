// Types of the language: words (int, bool, string) live on the stack or in a data
// page; arrays, records and keys live in key slots and are never words, so no
// expression turns a key into an int or an int into a key.

/** Kinds of key a variable can hold; `key` is any of them. */
export const KEY_TYPES = ['page', 'rpage', 'domain', 'meter', 'device', 'resume', 'key'] as const;
export type KeyTypeName = (typeof KEY_TYPES)[number];

export type Type =
  | { readonly k: 'int' }
  | { readonly k: 'bool' }
  | { readonly k: 'string' }
  | { readonly k: 'void' }
  | { readonly k: 'array'; readonly elem: 'int' | 'bool' }
  | { readonly k: 'record'; readonly name: string }
  | { readonly k: 'key'; readonly key: KeyTypeName }
  /** A gate key to a domain declared in the source: its functions can be called. */
  | { readonly k: 'gate'; readonly domain: string }
  /** The type of an expression that already has an error: matches anything, reports nothing. */
  | { readonly k: 'error' };

export const INT: Type = { k: 'int' };
export const BOOL: Type = { k: 'bool' };
export const STRING: Type = { k: 'string' };
export const VOID: Type = { k: 'void' };
export const ERROR: Type = { k: 'error' };
export const keyType = (key: KeyTypeName): Type => ({ k: 'key', key });

/** True for types held in a key slot rather than as a word. */
export const isSlotType = (t: Type): boolean =>
  t.k === 'array' || t.k === 'record' || t.k === 'key' || t.k === 'gate';

export const isWordType = (t: Type): boolean => t.k === 'int' || t.k === 'bool' || t.k === 'string';

export function typeName(t: Type): string {
  switch (t.k) {
    case 'array':
      return `${t.elem}[]`;
    case 'record':
      return t.name;
    case 'key':
      return t.key;
    case 'gate':
      return t.domain;
    default:
      return t.k;
  }
}

/** Whether a value of type `from` may be stored where `to` is expected. */
export function assignable(from: Type, to: Type): boolean {
  if (from.k === 'error' || to.k === 'error') return true;
  if (to.k === 'key') {
    if (to.key === 'key') return isSlotType(from);
    if (to.key === 'domain') return from.k === 'gate' || (from.k === 'key' && from.key === 'domain');
    if (to.key === 'rpage') return from.k === 'key' && from.key === 'rpage';
    return from.k === 'key' && from.key === to.key;
  }
  if (to.k === 'gate') return from.k === 'gate' && from.domain === to.domain;
  if (to.k === 'array') return from.k === 'array' && from.elem === to.elem;
  if (to.k === 'record') return from.k === 'record' && from.name === to.name;
  return from.k === to.k;
}
