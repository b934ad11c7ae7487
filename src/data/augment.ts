/**
 * Augmentation of the real sizes' mixtures (docs/corpus.md, "Augmentation"): room reverberation on the
 * speech, a device channel on speech and noise, a speech level and a DC offset. Every parameter is drawn
 * from the mixture's own seeded stream and recorded in its manifest entry; sox does all the filtering.
 *
 * The channel (EQ, low-pass, sample-rate round trip) is linear and applied to the speech and the noise
 * alike, so the clean target is the reverberant speech *through the same channel*: the network is never
 * asked to restore a band the channel removed (it cannot), only to remove the noise. The DC offset is a
 * fault of the input, added to the noisy file only, and counts as noise in the SNR.
 */
import { rngFor, round } from './rng.js';
import { soxFloat } from './decode.js';
import { CORPUS_RATE } from './sox.js';

export const REAL_SNR_RANGE_DB: [number, number] = [-6, 20];
export const SPEECH_LEVEL_RANGE_DB: [number, number] = [-45, -10];
export const RT60_RANGE_S: [number, number] = [0.2, 0.9];
export const LOWPASS_RANGE_HZ: [number, number] = [3400, 7600];
export const TILT_RANGE_DB: [number, number] = [-6, 6];
export const DC_RANGE_DB: [number, number] = [-30, -10];
export const P_REVERB = 0.7;
export const P_LOWPASS = 0.4;
export const P_DC = 0.3;
/** sox reverb's HF damping (%), fixed: the RT60 table was measured with it. */
export const REVERB_HF_DAMPING = 50;

/**
 * RT60 (s) of sox 14.4.2 `reverb -w <reverberance> 50 <room-scale> 100 0 0` at 16 kHz, reverberance 0, 5,
 * …, 100 %: Schroeder backward integration of its impulse response, T20 (−5 to −25 dB) × 3. A test
 * measures sox again against this table (test/unit/corpus-real-units.test.ts).
 */
export const REVERB_RT60: Record<number, number[]> = {
  20: [0.162, 0.175, 0.19, 0.209, 0.229, 0.253, 0.282, 0.318, 0.361, 0.41, 0.476, 0.553, 0.644, 0.763, 0.904, 1.055, 1.221, 1.414, 1.706, 2.031, 2.476],
  40: [0.165, 0.175, 0.191, 0.212, 0.244, 0.28, 0.326, 0.379, 0.446, 0.551, 0.674, 0.833, 0.983, 1.143, 1.367, 1.634, 1.962, 2.367, 2.914, 3.583, 4.499],
  60: [0.166, 0.182, 0.205, 0.234, 0.278, 0.337, 0.404, 0.504, 0.619, 0.746, 0.899, 1.099, 1.317, 1.58, 1.938, 2.314, 2.752, 3.264, 4.054, 4.949, 6.002],
};

/** The reverberance (%) that gives `rt60` at `roomScale`, interpolated in log RT60 between table points. */
export function reverberanceFor(rt60: number, roomScale: number): number {
  const t = REVERB_RT60[roomScale];
  if (!t) throw new Error(`no RT60 table for room scale ${roomScale}`);
  for (let i = 1; i < t.length; i++) {
    if (rt60 <= t[i]) {
      const f = Math.max(0, (Math.log(rt60) - Math.log(t[i - 1])) / (Math.log(t[i]) - Math.log(t[i - 1])));
      return round(5 * (i - 1 + f), 2);
    }
  }
  return 100;
}

export interface Reverb {
  rt60: number;
  roomScale: number;
  reverberance: number;
  hfDamping: number;
  preDelayMs: number;
  wetGainDb: number;
}

export interface Channel {
  /** bass shelf at 250 Hz and treble shelf at 3 kHz (dB): a spectral tilt. */
  bassDb: number;
  trebleDb: number;
  /** sox sinc low-pass cut-off, or null. */
  lowpassHz: number | null;
  /** Sample-rate round trip through this rate, or null. */
  roundTripHz: 8000 | 48000 | null;
}

export interface Augment {
  reverb: Reverb | null;
  channel: Channel;
  /** RMS level of the clean target over the clip (dBFS) asked for, before any headroom reduction. */
  speechLevelDb: number;
  /** DC offset relative to the noise RMS (dB), sign included separately; null for none. */
  dc: { relDb: number; sign: 1 | -1 } | null;
}

export function augmentRecipe(seed: number, id: string): Augment {
  const rng = rngFor(seed, 'augment', id);
  let reverb: Reverb | null = null;
  if (rng.next() < P_REVERB) {
    const rt60 = round(rng.uniform(RT60_RANGE_S[0], RT60_RANGE_S[1]), 3);
    const roomScale = rng.pick([20, 40, 60]);
    reverb = { rt60, roomScale, reverberance: reverberanceFor(rt60, roomScale), hfDamping: REVERB_HF_DAMPING, preDelayMs: rng.int(0, 20), wetGainDb: round(rng.uniform(-6, 0), 2) };
  }
  const channel: Channel = {
    bassDb: round(rng.uniform(TILT_RANGE_DB[0], TILT_RANGE_DB[1]), 2),
    trebleDb: round(rng.uniform(TILT_RANGE_DB[0], TILT_RANGE_DB[1]), 2),
    lowpassHz: rng.next() < P_LOWPASS ? Math.round(rng.uniform(LOWPASS_RANGE_HZ[0], LOWPASS_RANGE_HZ[1])) : null,
    roundTripHz: rng.pick([null, null, 8000, 48000] as const),
  };
  const speechLevelDb = round(rng.uniform(SPEECH_LEVEL_RANGE_DB[0], SPEECH_LEVEL_RANGE_DB[1]), 2);
  const dc = rng.next() < P_DC ? { relDb: round(rng.uniform(DC_RANGE_DB[0], DC_RANGE_DB[1]), 2), sign: rng.pick([1, -1] as const) } : null;
  return { reverb, channel, speechLevelDb, dc };
}

export function reverbEffects(r: Reverb): string[] {
  return ['reverb', String(r.reverberance), String(r.hfDamping), String(r.roomScale), '100', String(r.preDelayMs), String(r.wetGainDb)];
}

export function channelEffects(c: Channel): string[] {
  const fx = ['bass', String(c.bassDb), '250', 'treble', String(c.trebleDb), '3000'];
  if (c.lowpassHz !== null) fx.push('sinc', `-${c.lowpassHz}`);
  if (c.roundTripHz !== null) fx.push('rate', '-v', String(c.roundTripHz));
  return fx;
}

/** Reverberant speech (dry + sox's reverb, same length): the target of a reverberant mixture. */
export function applyReverb(x: Float32Array | Float64Array, r: Reverb | null): Promise<Float32Array> {
  return r ? soxFloat(x, CORPUS_RATE, reverbEffects(r), CORPUS_RATE, 'reverb') : Promise.resolve(Float32Array.from(x));
}

/** The device channel; a round trip ends back at the corpus rate (same length up to a sample, padded or cut). */
export async function applyChannel(x: Float32Array | Float64Array, c: Channel): Promise<Float32Array> {
  const y = await soxFloat(x, CORPUS_RATE, channelEffects(c), CORPUS_RATE, 'channel');
  if (y.length === x.length) return y;
  const out = new Float32Array(x.length);
  out.set(y.subarray(0, x.length));
  return out;
}

/** RT60 of an impulse response by Schroeder backward integration, T20 (−5…−25 dB) × 3; NaN when it never decays 25 dB. */
export function rt60Of(h: Float32Array | Float64Array, rate = CORPUS_RATE): number {
  const edc = new Float64Array(h.length);
  let acc = 0;
  for (let i = h.length - 1; i >= 0; i--) edc[i] = acc += h[i] * h[i];
  const db = (i: number) => 10 * Math.log10(edc[i] / edc[0] + 1e-30);
  let i5 = -1;
  let i25 = -1;
  for (let i = 0; i < h.length; i++) {
    if (i5 < 0 && db(i) <= -5) i5 = i;
    if (db(i) <= -25) {
      i25 = i;
      break;
    }
  }
  if (i5 < 0 || i25 <= i5 + 1) return Number.NaN;
  let st = 0, sy = 0, stt = 0, sty = 0;
  const n = i25 - i5;
  for (let i = i5; i < i25; i++) {
    const t = i / rate;
    const y = db(i);
    st += t;
    sy += y;
    stt += t * t;
    sty += t * y;
  }
  const slope = (n * sty - st * sy) / (n * stt - st * st);
  return -60 / slope;
}

export interface AugmentedMix {
  clean: Int16Array;
  noisy: Int16Array;
  /** Gain on the (reverberant, channelled) speech, gain on the channelled noise segment, DC added (floats). */
  speechGain: number;
  noiseGain: number;
  dcOffset: number;
  /** Actual clean RMS level (dBFS) after any headroom reduction. */
  speechLevelDb: number;
}

const MIX_PEAK = 10 ** (-1 / 20);

/**
 * Sets the speech to its level, scales the noise (plus DC) to `snr` dB below it — the SNR of the written
 * clean file against noisy − clean — and scales both down together if the sum would pass −1 dBFS.
 */
export function mixAugmented(speech: Float32Array, noise: Float32Array, snr: number, a: Augment): AugmentedMix {
  const n = speech.length;
  let es = 0, en = 0, sn = 0;
  for (let i = 0; i < n; i++) {
    es += speech[i] * speech[i];
    en += noise[i] * noise[i];
    sn += noise[i];
  }
  if (!(es > 0) || !(en > 0)) throw new Error(`cannot mix at an SNR: the ${es > 0 ? 'noise' : 'speech'} segment is silent`);
  const a0 = 10 ** (a.speechLevelDb / 20) / Math.sqrt(es / n);
  const budget = (a0 * a0 * es) / 10 ** (snr / 10); // noise energy wanted
  const dc = a.dc ? a.dc.sign * 10 ** (a.dc.relDb / 20) * Math.sqrt(budget / n) : 0;
  // g²·En + 2g·dc·Σn + N·dc² = budget; N·dc² ≤ 0.1·budget, so a positive root exists.
  const qa = en, qb = 2 * dc * sn, qc = n * dc * dc - budget;
  const g = (-qb + Math.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa);
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(a0 * speech[i] + g * noise[i] + dc));
  const h = Math.min(1, MIX_PEAK / peak);
  const clean = new Int16Array(n);
  const noisy = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.round(a0 * h * speech[i] * 32768);
    clean[i] = c;
    noisy[i] = c + Math.round(h * (g * noise[i] + dc) * 32768);
  }
  let ec = 0;
  for (let i = 0; i < n; i++) ec += (clean[i] / 32768) ** 2;
  return { clean, noisy, speechGain: a0 * h, noiseGain: g * h, dcOffset: dc * h, speechLevelDb: round(10 * Math.log10(ec / n), 2) };
}
