// Writes docs/isa.md from the instruction table (build @keyvm/isa first; `pnpm gen:docs` does).
import { writeFileSync } from 'node:fs';
import { renderIsaMarkdown } from '../packages/isa/dist/index.js';

writeFileSync(new URL('../docs/isa.md', import.meta.url), renderIsaMarkdown());
console.log('wrote docs/isa.md');
