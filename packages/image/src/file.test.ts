// Crash-safe files: the save replaces the target whole and leaves no temporary
// file, never follows a planted symlink, can be cleaned up when interrupted; load
// decodes strictly.
import * as crypto from 'node:crypto';
import { statSync, symlinkSync } from 'node:fs';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectKind } from '@keyvm/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { richStore, tinyStore } from './fixtures.test-helpers.js';
import { encodeImage, ImageError } from './index.js';
import {
  loadImageFile,
  removeTemporaryFiles,
  saveImageFile,
  TemporaryFileError,
  writeFileAtomic,
} from './node.js';

// randomBytes stays real unless a test fixes its next values (to collide with a planted file).
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, randomBytes: vi.fn(real.randomBytes) };
});
const fixedRandom = (byte: number): void => {
  (vi.mocked(crypto.randomBytes) as unknown as { mockReturnValueOnce(b: Buffer): void }).mockReturnValueOnce(
    Buffer.alloc(8, byte),
  );
};

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyvm-image-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('image files', () => {
  it('saves, replaces and loads an image, leaving only the target', async () => {
    const path = join(dir, 'machine.kvmi');
    await saveImageFile(path, encodeImage(tinyStore()));
    const rich = encodeImage(richStore());
    await saveImageFile(path, rich);
    expect(new Uint8Array(await readFile(path))).toEqual(rich);
    expect(await readdir(dir)).toEqual(['machine.kvmi']);
    const loaded = await loadImageFile(path);
    expect(encodeImage(loaded)).toEqual(rich);
    // The data pages are views of the file's bytes (read into a buffer of its own).
    for (const o of loaded.objects())
      if (o.kind === ObjectKind.dataPage) expect(o.words.buffer.byteLength).toBe(rich.length);
  });

  it('leaves the old image when the save fails, and refuses a damaged file', async () => {
    const path = join(dir, 'machine.kvmi');
    await saveImageFile(path, encodeImage(tinyStore()));
    await expect(saveImageFile(join(dir, 'missing', 'x.kvmi'), new Uint8Array(1))).rejects.toThrow();
    const bytes = new Uint8Array(await readFile(path));
    bytes[100]! ^= 1;
    await writeFile(path, bytes);
    await expect(loadImageFile(path)).rejects.toBeInstanceOf(ImageError);
  });
});

describe('writeFileAtomic', () => {
  it('writes text or bytes, keeps the permission bits of the file it replaces', async () => {
    const path = join(dir, 'out.txt');
    await writeFileAtomic(path, 'first\n');
    await chmod(path, 0o640);
    await writeFileAtomic(path, Uint8Array.of(1, 2, 3));
    expect(new Uint8Array(await readFile(path))).toEqual(Uint8Array.of(1, 2, 3));
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['out.txt']);
  });

  it('never writes through a symlink planted at a temporary name; tries another name', async () => {
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    const path = join(dir, 'out.kvm');
    // The name the old code used (pid-based), and the name the next random draw gives.
    await symlink(victim, join(dir, `.out.kvm.${process.pid}.tmp`));
    const planted = join(dir, `.out.kvm.${'ab'.repeat(8)}.tmp`);
    await symlink(victim, planted);
    fixedRandom(0xab);
    await saveImageFile(path, Uint8Array.of(1, 2, 3));
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect(new Uint8Array(await readFile(path))).toEqual(Uint8Array.of(1, 2, 3));
    expect(await readlink(planted)).toBe(victim);
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toHaveLength(2);
  });

  it('gives up with a TemporaryFileError when every name it draws exists', async () => {
    await symlink(join(dir, 'nowhere'), join(dir, `.out.kvm.${'cd'.repeat(8)}.tmp`));
    for (let i = 0; i < 5; i++) fixedRandom(0xcd);
    const error = await writeFileAtomic(join(dir, 'out.kvm'), 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemporaryFileError);
    expect(error).toMatchObject({ code: 'EEXIST', directory: dir, target: join(dir, 'out.kvm') });
    expect(await readdir(dir)).toHaveLength(1);
  });

  it('says the temporary file could not be made, and where, when its directory is missing', async () => {
    const target = join(dir, 'missing', 'x.kvm');
    const error = await writeFileAtomic(target, 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemporaryFileError);
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'open', directory: join(dir, 'missing') });
    expect((error as Error).message).toMatch(/^cannot create a temporary file in '.*missing' to write/);
  });

  it('refuses a directory without leaving a temporary file', async () => {
    await mkdir(join(dir, 'sub'));
    await expect(writeFileAtomic(join(dir, 'sub'), 'x')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(await readdir(dir)).toEqual(['sub']);
  });

  it('replaces the file a symlink points to, keeping the link', async () => {
    await writeFile(join(dir, 'real.txt'), 'old');
    symlinkSync('real.txt', join(dir, 'link.txt'));
    await writeFileAtomic(join(dir, 'link.txt'), 'new');
    expect(await readlink(join(dir, 'link.txt'))).toBe('real.txt');
    expect(await readFile(join(dir, 'real.txt'), 'utf8')).toBe('new');
  });

  it.runIf(process.platform !== 'win32')('writes a device in place instead of replacing it', async () => {
    await writeFileAtomic('/dev/null', 'discarded');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('removeTemporaryFiles deletes the temporary file of a write in progress; the target stays', async () => {
    const path = join(dir, 'big.kvmi');
    await writeFile(path, 'old');
    const writing = writeFileAtomic(path, new Uint8Array(64 * 1024 * 1024)).then(
      () => 'finished',
      (e: NodeJS.ErrnoException) => e.code,
    );
    let settled = false;
    void writing.then(() => {
      settled = true;
    });
    let temporary: string[] = [];
    while (temporary.length === 0 && !settled)
      temporary = (await readdir(dir)).filter((n) => n.endsWith('.tmp'));
    expect(temporary, 'the write ended before its temporary file was seen').toHaveLength(1);
    removeTemporaryFiles();
    expect(await readdir(dir)).toEqual(['big.kvmi']);
    // The write in progress cannot rename what is gone: the old file stays.
    expect(await writing).toBe('ENOENT');
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['big.kvmi']);
  });
});
