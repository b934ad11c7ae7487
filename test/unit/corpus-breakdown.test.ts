/** corpusBreakdown: clips grouped by what the manifest says of their mixture, and the reference-range row. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { CorpusManifest } from '../../src/data/manifest.js';
import { breakdown, SNR_BAND_LABELS, snrRows, type ClipScore } from '../../src/report/corpusBreakdown.js';

type Slice = Pick<CorpusManifest, 'mixtures' | 'speech' | 'noise'>;
// Only the fields breakdown reads; the rest of an entry does not matter to it.
const manifest = {
  speech: [{ id: 's1', package: 'pkg-a' }, { id: 's2', engine: 'flite' }],
  noise: [{ id: 'n1', category: 'music' }, { id: 'n2', category: 'babble' }],
  mixtures: [
    { id: 'm1', speech: 's1', noise: 'n1', snrDb: -6 },
    { id: 'm2', speech: 's1', noise: 'n2', snrDb: 9 },
    { id: 'm3', speech: 's2', noise: 'n1', snrDb: 9.01 },
    { id: 'm4', speech: 's2', noise: 'n2', snrDb: 17 },
  ],
} as unknown as Slice;
const score = (clip: string, d: number): ClipScore => ({ clip, sdrNoisy: 0, sdrImprovement: d, sisdrImprovement: d / 2 });

it('groups by speech source, noise category and SNR band; unknown clips count only in all', () => {
  const b = breakdown([score('m1', 4), score('m2', 2), score('m3', 1), score('m4', 0), score('x', 10)], manifest);
  assert.equal(b.all.n, 5);
  assert.deepEqual(b.unmatched, ['x']);
  assert.deepEqual(b.bySource.map((r) => [r.group, r.n]), [['flite', 2], ['pkg-a', 2]]);
  assert.deepEqual(b.byNoise.map((r) => [r.group, r.sdrImprovement.mean]), [['babble', 1], ['music', 2.5]]);
  assert.deepEqual(b.bySnr.map((r) => r.group), ['< 0 dB', '5…10 dB', '≥ 15 dB']);
  assert.deepEqual(SNR_BAND_LABELS, ['< 0 dB', '0…5 dB', '5…10 dB', '10…15 dB', '≥ 15 dB']);
});

it('the reference-range row holds exactly the clips mixed at −6…9 dB, ends included', () => {
  const b = breakdown([score('m1', 4), score('m2', 2), score('m3', 1), score('m4', 0)], manifest);
  assert.equal(b.inReferenceRange?.group, "-6…9 dB (CHiME-2's range)");
  assert.equal(snrRows(b).at(-1), b.inReferenceRange);
  assert.equal(b.inReferenceRange?.n, 2);
  assert.equal(b.inReferenceRange?.sdrImprovement.mean, 3);
  assert.equal(breakdown([score('m4', 0)], manifest).inReferenceRange, undefined);
});
