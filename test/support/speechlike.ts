/**
 * Deterministic speech-like test signals: voiced syllables (a harmonic series on a wandering f0, shaped by
 * three vowel formants and a spectral tilt), unvoiced fricative bursts (high-passed noise), short pauses,
 * and a faint microphone noise floor. Not speech, but it has speech's properties that matter to the
 * metrics: a band-limited, strongly coloured, non-stationary spectrum with gaps.
 */
import seedrandom from 'seedrandom';

export type Rng = () => number;

export function rng(seed: string): Rng {
  return seedrandom(seed);
}

/** Standard normal deviate (Box–Muller). */
export function gaussian(r: Rng): number {
  const u = 1 - r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export function whiteNoise(n: number, r: Rng): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = gaussian(r);
  return x;
}

// F1, F2, F3 in Hz of a few vowels (Peterson & Barney averages, rounded).
const VOWELS: Array<[number, number, number]> = [
  [730, 1090, 2440], // /a/
  [270, 2290, 3010], // /i/
  [300, 870, 2240], // /u/
  [530, 1840, 2480], // /e/
  [570, 840, 2410], // /o/
];

function formantGain(f: number, formants: [number, number, number]): number {
  let g = 1;
  for (const fk of formants) {
    const bw = 60 + 0.05 * fk;
    const x = f / fk;
    g /= Math.sqrt((1 - x * x) ** 2 + ((f * bw) / (fk * fk)) ** 2);
  }
  return g / (1 + f / 400); // glottal tilt
}

export interface SpeechOptions {
  sampleRate?: number;
  /** Mean f0 in Hz: ~120 for a low voice, ~210 for a high one. */
  f0?: number;
  /** Peak amplitude of the result. */
  peak?: number;
}

export function speechLike(seconds: number, seed: string, opts: SpeechOptions = {}): Float64Array {
  const fs = opts.sampleRate ?? 16000;
  const f0Mean = opts.f0 ?? 130;
  const r = rng(seed);
  const n = Math.round(seconds * fs);
  const x = new Float64Array(n);

  let pos = Math.floor(r() * 0.05 * fs);
  let phase = 0; // glottal phase in cycles, continuous across syllables
  while (pos < n) {
    const kind = r();
    const len = Math.floor((0.08 + 0.22 * r()) * fs);
    const end = Math.min(n, pos + len);
    if (kind < 0.7) {
      const vowel = VOWELS[Math.floor(r() * VOWELS.length)];
      const level = 0.4 + 0.6 * r();
      const f0Start = f0Mean * (0.85 + 0.3 * r());
      const f0End = f0Mean * (0.85 + 0.3 * r());
      const nh = Math.floor(7600 / Math.max(f0Start, f0End));
      const amps = new Float64Array(nh + 1);
      const phases = new Float64Array(nh + 1);
      const f0Ref = (f0Start + f0End) / 2;
      for (let h = 1; h <= nh; h++) {
        amps[h] = formantGain(h * f0Ref, vowel);
        phases[h] = 2 * Math.PI * r();
      }
      let norm = 0;
      for (let h = 1; h <= nh; h++) norm += amps[h];
      for (let i = pos; i < end; i++) {
        const t = (i - pos) / (end - pos);
        phase += (f0Start + (f0End - f0Start) * t) / fs;
        const env = Math.sin(Math.PI * t) ** 0.6;
        let v = 0;
        for (let h = 1; h <= nh; h++) v += amps[h] * Math.sin(2 * Math.PI * h * phase + phases[h]);
        x[i] += (level * env * v) / norm;
      }
    } else if (kind < 0.85) {
      const level = 0.05 + 0.1 * r();
      let prev = 0;
      for (let i = pos; i < end; i++) {
        const t = (i - pos) / (end - pos);
        const w = gaussian(r);
        x[i] += level * Math.sin(Math.PI * t) * (w - 0.9 * prev); // first difference: a high-passed hiss
        prev = w;
      }
    }
    // else: a pause
    pos = end + Math.floor(r() * 0.04 * fs);
  }

  for (let i = 0; i < n; i++) x[i] += 1e-4 * gaussian(r);
  return scaleToPeak(x, opts.peak ?? 0.5);
}

export function scaleToPeak(x: Float64Array, peak: number): Float64Array {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] * peak) / m;
  return out;
}
