// TEMPORARY stand-in for node:path in the browser build (see vite.config.ts).
export const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
export const dirname = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) || '/' : '.');
export const join = (...parts: string[]): string => parts.join('/');
export default { basename, dirname, join };
