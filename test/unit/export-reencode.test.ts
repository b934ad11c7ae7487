/** Re-encoding a blob's FC weights (src/export/reencode.ts): byte-identical with its own encodings, and the same outputs in any other. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseBlob, runClipOnHost } from '../../src/engine/index.js';
import { currentEncoding, reencodeBlob } from '../../src/export/reencode.js';
import { testSignal } from '../support/engineFixtures.js';

const dir = new URL('../vectors/engine/', import.meta.url);
const names = readFileSync(new URL('index.txt', dir), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(' ')[0]);

test('every test vector blob re-encoded with the encodings it has is byte-identical', () => {
  assert.ok(names.length >= 12 && names.includes('tiny-csr4'));
  for (const name of names) {
    const bytes = new Uint8Array(readFileSync(new URL(`${name}.hilm`, dir)));
    assert.deepEqual(reencodeBlob(bytes, currentEncoding).bytes, bytes, name);
  }
});

test('re-encoded as CSR4 or auto, a blob runs bit-exactly as before and auto is never larger', () => {
  for (const name of ['tiny-mixed', 'tiny-csr', 'small-int16out-auto']) {
    const bytes = new Uint8Array(readFileSync(new URL(`${name}.hilm`, dir)));
    const pcm = testSignal(7, 3000);
    const before = runClipOnHost(bytes, pcm);
    for (const kind of ['csr4', 'auto'] as const) {
      const re = reencodeBlob(bytes, { kind });
      const p = parseBlob(re.bytes);
      if (kind === 'csr4') assert.ok(p.ops.every((o) => o.op !== 'FC' || o.weights.encoding === 'csr4'), `${name}: every FC is CSR4`);
      else assert.ok(re.bytes.length <= bytes.length, `${name}: auto ${re.bytes.length} > ${bytes.length}`);
      assert.deepEqual(runClipOnHost(re.bytes, pcm).output, before.output, `${name} as ${kind}`);
    }
  }
});
