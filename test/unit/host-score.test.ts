/** scoreSetOnHost's clip selection: `stride` takes every n-th clip in name order, then `limit` caps them. */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toInt16, writePcm16 } from '../../src/data/wav.js';
import { scoreSetOnHost } from '../../src/run/hostScore.js';
import { resolveModel } from '../../src/run/resolveModel.js';
import { addAt } from '../support/filters.js';
import { rng, speechLike, whiteNoise } from '../support/speechlike.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-hostscore-'));
  for (const s of ['clean', 'noisy']) mkdirSync(join(dir, s));
  for (let i = 0; i < 5; i++) {
    const clean = speechLike(0.3, `hostscore-${i}`);
    writePcm16(join(dir, 'clean', `c${i}.wav`), toInt16(clean), 16000);
    writePcm16(join(dir, 'noisy', `c${i}.wav`), toInt16(addAt(clean, whiteNoise(clean.length, rng(`hostscore-n${i}`)), 5)), 16000);
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

it('stride and limit pick every n-th clip, scored as in the full set', () => {
  const blob = resolveModel('models/se-small/compressed/dense-int8').blob;
  const all = scoreSetOnHost(blob, join(dir, 'noisy'), join(dir, 'clean'));
  assert.deepEqual(all.map((s) => s.clip), ['c0', 'c1', 'c2', 'c3', 'c4']);
  const picked = scoreSetOnHost(blob, join(dir, 'noisy'), join(dir, 'clean'), { stride: 2, limit: 2 });
  assert.deepEqual(picked, [all[0], all[2]]);
  assert.deepEqual(scoreSetOnHost(blob, join(dir, 'noisy'), join(dir, 'clean'), { stride: 2 }).map((s) => s.clip), ['c0', 'c2', 'c4']);
});
