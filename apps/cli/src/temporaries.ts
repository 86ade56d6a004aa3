// Stale temporary files: a save killed outright (kill -9, power loss) leaves its
// temporary beside the target. The next write to that target removes the ones of
// our naming that nobody has touched for a while (never a concurrent writer's live one).
import { lstat, readdir, realpath, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temporary not modified for this long belongs to a writer that is gone (10 minutes). */
export const STALE_AFTER_MS = 10 * 60 * 1000;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Delete the stale temporaries of `path`: files named `.NAME.<16 hex>.tmp` beside it
 * (NAME: its first 64 characters, as writeFileAtomic and our streaming writer name
 * them), regular files of ours, unmodified for STALE_AFTER_MS. Returns how many.
 * Best effort: a directory that cannot be listed or a file that cannot go is left.
 */
export async function removeStaleTemporaries(path: string, now = Date.now()): Promise<number> {
  const target = await realpath(path).catch(() => path);
  const dir = dirname(target);
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(target).slice(0, 64))}\\.[0-9a-f]{16}\\.tmp$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const uid = process.getuid?.();
  let removed = 0;
  for (const name of names) {
    if (!pattern.test(name)) continue;
    const file = join(dir, name);
    try {
      const stats = await lstat(file);
      if (!stats.isFile() || (uid !== undefined && stats.uid !== uid)) continue;
      if (now - stats.mtimeMs < STALE_AFTER_MS) continue;
      await unlink(file);
      removed++;
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}
