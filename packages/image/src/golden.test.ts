// Golden images: the bytes of small fixed machines are checked in, so any change
// to the format is a deliberate, versioned act. Regenerate (after bumping
// IMAGE_FORMAT_VERSION) with KEYVM_UPDATE_GOLDEN=1.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './fixtures.test-helpers.js';
import { decodeImage, encodeImage, imageHash } from './index.js';

const dir = fileURLToPath(new URL('../test/golden/', import.meta.url));
const update = process.env.KEYVM_UPDATE_GOLDEN === '1';

describe.each(['empty', 'tiny', 'rich', 'faulted'] as const)('golden image %s.kvmi', (name) => {
  const file = `${dir}${name}.kvmi`;
  const bytes = encodeImage(FIXTURES[name]());
  if (update) writeFileSync(file, bytes);

  it('matches the checked-in bytes exactly', () => {
    expect(existsSync(file), `${file} is missing; run with KEYVM_UPDATE_GOLDEN=1`).toBe(true);
    const golden = readFileSync(file);
    expect(imageHash(bytes)).toBe(imageHash(golden));
    expect(Buffer.from(bytes).equals(golden)).toBe(true);
  });

  it('decodes and re-encodes to itself', () => {
    const golden = new Uint8Array(readFileSync(file));
    expect(Buffer.from(encodeImage(decodeImage(golden))).equals(golden)).toBe(true);
  });
});
