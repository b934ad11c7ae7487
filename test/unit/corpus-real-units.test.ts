/** Units of the real sizes: the RT60 table against sox itself, the quality gates on signals with known answers, the augmented mix. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { augmentRecipe, mixAugmented, REVERB_HF_DAMPING, REVERB_RT60, reverberanceFor, rt60Of } from '../../src/data/augment.js';
import { soxFloat } from '../../src/data/decode.js';
import { bandShares, clippedShare, dynamicRangeDb, MIN_HF_4K_DB, qualityProblem } from '../../src/data/quality.js';
import { rngFor } from '../../src/data/rng.js';

function noise(n: number, seed: string): Float32Array {
  const r = rngFor(1, seed);
  return Float32Array.from({ length: n }, () => 0.1 * r.gaussian());
}

describe('real corpus units', () => {
  it('sox reverb decays as the RT60 table says (±10 %)', async () => {
    const imp = new Float32Array(16000 * 4);
    imp[100] = 0.5;
    for (const [room, rev] of [[20, 40], [40, 25], [60, 45]] as const) {
      const h = await soxFloat(imp, 16000, ['reverb', '-w', String(rev), String(REVERB_HF_DAMPING), String(room), '100', '0', '0']);
      const want = REVERB_RT60[room][rev / 5];
      const got = rt60Of(h);
      assert.ok(Math.abs(got - want) / want < 0.1, `room ${room} reverberance ${rev}: table ${want} s, sox ${got.toFixed(3)} s`);
    }
    assert.equal(reverberanceFor(REVERB_RT60[40][6], 40), 30);
  });

  it('tells wideband from band-limited audio, and finds clipping and noisy pauses', async () => {
    const white = noise(16000, 'w');
    const narrow = await soxFloat(white, 16000, ['sinc', '-3500']);
    assert.ok(bandShares(white).hf4kDb > -4);
    assert.ok(bandShares(narrow).hf4kDb < MIN_HF_4K_DB, String(bandShares(narrow).hf4kDb));
    const clip = Float32Array.from(white, (v, i) => (i % 100 < 3 ? 1 : v));
    assert.ok(clippedShare(clip) > 0.02 && clippedShare(white) === 0);
    const bursts = Float32Array.from(white, (v, i) => (Math.floor(i / 1600) % 2 ? v : v * 0.001));
    assert.ok(dynamicRangeDb(bursts) > 55 && dynamicRangeDb(white) < 5);
    assert.match(qualityProblem({ hf4kDb: -20, hf6kDb: -30, clipped: 0, dynamicRangeDb: 10 }) ?? '', /noisy/);
    assert.equal(qualityProblem({ hf4kDb: -20, hf6kDb: -30, clipped: 0, dynamicRangeDb: 40 }), null);
  });

  it('mixes at the SNR with the DC offset counted as noise, at the asked level', () => {
    const s = noise(8000, 's');
    const n = noise(8000, 'n');
    const a = { ...augmentRecipe(1, 'x'), speechLevelDb: -30, dc: { relDb: -10, sign: 1 as const } };
    const m = mixAugmented(s, n, 5, a);
    let es = 0, en = 0, ec = 0;
    for (let i = 0; i < s.length; i++) {
      es += m.clean[i] ** 2;
      en += (m.noisy[i] - m.clean[i]) ** 2;
      ec += (m.clean[i] / 32768) ** 2;
    }
    assert.ok(Math.abs(10 * Math.log10(es / en) - 5) < 0.01);
    assert.ok(Math.abs(10 * Math.log10(ec / s.length) + 30) < 0.01);
    assert.ok(m.dcOffset > 0);
  });
});
