/**
 * A small synthetic corpus in `hil data build`'s layout, for fast training tests: seeded harmonic
 * "speech" (voiced syllables with gliding pitch) and noise (white, low-passed, hum), 16 kHz int16 WAV.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { writePcm16, toInt16 } from '../../src/data/wav.js';

function speechLike(rng: () => number, seconds: number): Float64Array {
  const n = Math.round(seconds * 16000);
  const x = new Float64Array(n);
  let phase = 0;
  const f0a = 90 + rng() * 160;
  const f0b = f0a * (0.8 + rng() * 0.4);
  const syll = 0.15 + rng() * 0.15;
  for (let i = 0; i < n; i++) {
    const t = i / 16000;
    const f0 = f0a + ((f0b - f0a) * i) / n;
    phase += (2 * Math.PI * f0) / 16000;
    const env = Math.max(0, Math.sin((Math.PI * t) / syll)) ** 2;
    let v = 0;
    for (let h = 1; h <= 12; h++) v += Math.sin(h * phase) / h;
    x[i] = 0.08 * env * v;
  }
  return x;
}

function noiseLike(rng: () => number, kind: number, seconds: number): Float64Array {
  const n = Math.round(seconds * 16000);
  const x = new Float64Array(n);
  let lp = 0;
  for (let i = 0; i < n; i++) {
    const w = rng() * 2 - 1;
    lp = 0.95 * lp + 0.05 * w;
    x[i] = kind === 0 ? 0.1 * w : kind === 1 ? 0.5 * lp : 0.05 * Math.sin((2 * Math.PI * 50 * i) / 16000) + 0.03 * w;
  }
  return x;
}

/**
 * Writes the corpus into `dir` and returns it. `augmented` adds that many train mixtures marked as the real
 * sizes' augmented ones (a low-passed "channel" on speech and noise alike), as `hil data build --size real` lists them.
 */
export function makeSyntheticCorpus(dir: string, opts: { speech?: number; noise?: number; val?: number; seed?: number; augmented?: number } = {}): string {
  const rng = seedrandom(`fixture:${opts.seed ?? 1}`);
  const speech: object[] = [];
  const noise: object[] = [];
  for (let i = 0; i < (opts.speech ?? 8); i++) {
    const id = `s${i}`;
    const path = join('speech', 'train', 'v0', `${id}.wav`);
    mkdirSync(join(dir, 'speech', 'train', 'v0'), { recursive: true });
    writePcm16(join(dir, path), toInt16(speechLike(rng, 1.2)), 16000);
    speech.push({ id, split: 'train', path });
  }
  for (let i = 0; i < (opts.noise ?? 3); i++) {
    const id = `n${i}`;
    const path = join('noise', 'train', 'c0', `${id}.wav`);
    mkdirSync(join(dir, 'noise', 'train', 'c0'), { recursive: true });
    writePcm16(join(dir, path), toInt16(noiseLike(rng, i % 3, 2)), 16000);
    noise.push({ id, split: 'train', path });
  }
  const valMixtures: object[] = [];
  mkdirSync(join(dir, 'val', 'noisy'), { recursive: true });
  mkdirSync(join(dir, 'val', 'clean'), { recursive: true });
  for (let i = 0; i < (opts.val ?? 3); i++) {
    const clean = speechLike(rng, 1);
    const nz = noiseLike(rng, i % 3, 1);
    const noisy = clean.map((v, k) => v + 0.5 * nz[k]);
    writePcm16(join(dir, 'val', 'clean', `m${i}.wav`), toInt16(clean), 16000);
    writePcm16(join(dir, 'val', 'noisy', `m${i}.wav`), toInt16(noisy), 16000);
    valMixtures.push({ id: `m${i}`, split: 'val', path: join('val', 'noisy', `m${i}.wav`), cleanPath: join('val', 'clean', `m${i}.wav`) });
  }
  const mixtures: object[] = opts.augmented ? [...valMixtures] : [];
  mkdirSync(join(dir, 'train', 'noisy'), { recursive: true });
  mkdirSync(join(dir, 'train', 'clean'), { recursive: true });
  for (let i = 0; i < (opts.augmented ?? 0); i++) {
    const lowpass = (x: Float64Array) => {
      let y = 0;
      return x.map((v) => (y = 0.7 * y + 0.3 * v));
    };
    const clean = lowpass(speechLike(rng, 1.5));
    const nz = lowpass(noiseLike(rng, i % 3, 1.5));
    const id = `a${i}`;
    writePcm16(join(dir, 'train', 'clean', `${id}.wav`), toInt16(clean), 16000);
    writePcm16(join(dir, 'train', 'noisy', `${id}.wav`), toInt16(clean.map((v, k) => v + 0.5 * nz[k])), 16000);
    const augment = { reverb: null, channel: { bassDb: 0, trebleDb: 0, lowpassHz: 3400, roundTripHz: null }, speechLevelDb: -20, writtenLevelDb: -20, dc: null, dcOffset: 0 };
    mixtures.push({ id, split: 'train', path: join('train', 'noisy', `${id}.wav`), cleanPath: join('train', 'clean', `${id}.wav`), augment });
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ speech, noise, ...(mixtures.length ? { mixtures } : {}) }, null, 2));
  return dir;
}
