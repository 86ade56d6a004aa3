// Faults told for people by the CLI: as source positions (`file:line:col`, the line
// and a caret) in a domain named by the label it starts at. What the debug
// information says (positions, domain names) is @keyvm/image's `debug-names`.
import { escapeText, excerptLine, shownName } from '@keyvm/assembler';
import type { Store } from '@keyvm/core';
import type { FaultSource } from '@keyvm/image';
import type { FaultInfo } from '@keyvm/interpreter';

/** How a fault's domain is named: the root domain or a domain, by its source name when known, and its id. */
export function domainName(store: Store, domainId: number, name?: string): string {
  const called = name === undefined ? '' : `${shownName(name)} `;
  return domainId === store.kernel.root
    ? `the root domain ${called}#${domainId}`
    : `domain ${called}#${domainId}`;
}

/**
 * The fault for people: `file:line:col: fault: CODE in DOMAIN (in LABEL): MESSAGE`,
 * then the source line and a caret when known; without a source position, the pc.
 * DOMAIN is named by `name` (see domainLabel) when given; LABEL, the routine the pc is
 * in, is left out when it is that name.
 */
export function faultText(
  store: Store,
  fault: FaultInfo,
  where: FaultSource | undefined,
  red: (s: string) => string,
  name?: string,
): string {
  const domain = domainName(store, fault.domain, name);
  if (where === undefined)
    return `${red('fault')}: ${fault.code} at pc ${fault.pc} in ${domain}: ${fault.message}`;
  // Names come from the debug information, which a hostile image can shape: escaped.
  const label = where.label === undefined || where.label === name ? '' : `, in ${escapeText(where.label)}`;
  let text = `${escapeText(where.file)}:${where.line}:${where.col}: ${red('fault')}: ${fault.code} in ${domain} (pc ${fault.pc}${label}): ${fault.message}`;
  if (where.sourceLine !== undefined) {
    const { text: shown, caret } = excerptLine(where.sourceLine, where.col);
    text += `\n  ${shown}\n  ${caret}^`;
  }
  return text;
}

/** The --json fields a source position and the domain's source name add to a fault. */
export function faultSourceFields(where: FaultSource | undefined, name?: string): Record<string, unknown> {
  const named = name === undefined ? {} : { domainName: name };
  if (where === undefined) return named;
  return {
    file: where.file,
    line: where.line,
    col: where.col,
    ...(where.label === undefined ? {} : { label: where.label }),
    ...named,
  };
}
