/**
 * The committed se-small baseline must still enhance when the input is not what it was trained on:
 * band-limited, resampled through 48 kHz stereo or 8 kHz, far quieter or louder (issue 14). Mean ΔSDR over
 * each variant of the TTS test split and of the held-out real-test split stays positive. The host engine
 * runs the int8 blob (every board is checked bit-exact against it on every clip).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCorpus } from '../../src/data/build.js';
import { VARIANTS, writeVariantSet } from '../../src/data/variants.js';
import { scoreSetOnHost } from '../../src/run/hostScore.js';
import { resolveModel } from '../../src/run/resolveModel.js';
import { repoPath } from '../../src/util/paths.js';

const blob = resolveModel(repoPath('models', 'se-small', 'compressed', 'dense-int8')).blob;
const tmp = mkdtempSync(join(tmpdir(), 'hil-robust-'));
const sets: { name: string; noisy: string; clean: string }[] = [];

before(async () => {
  const small = (await ensureCorpus({ size: 'small', seed: 1 })).dir;
  // No skip: without the speech-data packages this fails, naming the command that installs them.
  const real = (await ensureCorpus({ size: 'real-small', seed: 1 })).dir;
  sets.push({ name: 'small test (TTS)', noisy: join(small, 'test', 'noisy'), clean: join(small, 'test', 'clean') });
  sets.push({ name: 'real-small real-test (held out)', noisy: join(real, 'real-test', 'noisy'), clean: join(real, 'real-test', 'clean') });
});

const meanImprovement = (noisy: string, clean: string) => {
  const s = scoreSetOnHost(blob, noisy, clean);
  return s.reduce((a, x) => a + x.sdrImprovement, 0) / s.length;
};

describe('se-small robustness (mean ΔSDR > 0)', () => {
  test('on the unmodified splits', () => {
    for (const s of sets) {
      const d = meanImprovement(s.noisy, s.clean);
      assert.ok(d > 0, `${s.name}: mean ΔSDR ${d.toFixed(2)} dB`);
    }
  });
  for (const v of VARIANTS) {
    test(`${v.name}: ${v.what}`, async () => {
      for (const [i, s] of sets.entries()) {
        const dir = join(tmp, `${i}-${v.name}`);
        await writeVariantSet(s.noisy, s.clean, dir, v);
        const d = meanImprovement(join(dir, 'noisy'), join(dir, 'clean'));
        assert.ok(d > 0, `${s.name}, ${v.name}: mean ΔSDR ${d.toFixed(2)} dB`);
      }
    });
  }
});
