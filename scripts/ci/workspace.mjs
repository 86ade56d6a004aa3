// The workspace's packages, found the way pnpm finds them (the globs of
// pnpm-workspace.yaml, one directory level each), for the CI guards: a package
// added later (packages/compiler, apps/web) is covered without naming it anywhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every workspace package: { dir (absolute), path (relative), name, json, isPrivate }, sorted by path. */
export function workspacePackages(root = ROOT) {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const block = /^packages:\s*\n((?:\s+-.*\n?)*)/m.exec(yaml)?.[1] ?? '';
  const globs = [...block.matchAll(/^\s+-\s+['"]?([^'"\s]+)['"]?\s*$/gm)].map((m) => m[1]);
  const out = [];
  for (const glob of globs) {
    if (!glob.endsWith('/*'))
      throw new Error(`pnpm-workspace.yaml: only "dir/*" globs are understood, not ${glob}`);
    const parent = join(root, glob.slice(0, -2));
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      const dir = join(parent, entry.name);
      const file = join(dir, 'package.json');
      if (!entry.isDirectory() || !existsSync(file)) continue;
      const json = JSON.parse(readFileSync(file, 'utf8'));
      out.push({ dir, path: relative(root, dir), name: json.name, json, isPrivate: json.private === true });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The public (publishable) packages. */
export const publicPackages = (root = ROOT) => workspacePackages(root).filter((p) => !p.isPrivate);

/** The root package.json. */
export const rootPackage = (root = ROOT) => JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
