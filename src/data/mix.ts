/**
 * Mixing speech and noise at a target SNR. The SNR is the energy ratio of the speech and the scaled noise
 * over the whole mixture, the definition the SE literature (and the DNS Challenge scripts) use. Both parts
 * are rounded to int16 *before* they are added, so the written noisy file is exactly clean + noise and
 * the SNR measured from the two written files matches the target up to rounding (≪ 0.01 dB).
 */
import { energy, segment, type Signal } from './audio.js';

/** Mixture peaks are kept at or below this (−1 dBFS), scaling speech and noise together when needed. */
export const MIX_PEAK = 10 ** (-1 / 20);

export interface Mixed {
  clean: Int16Array;
  noise: Int16Array;
  noisy: Int16Array;
  /** Gain applied to the speech file's samples. */
  speechGain: number;
  /** Gain applied to the noise file's samples. */
  noiseGain: number;
}

/** 10·log10(speech energy / noise energy); `noise` is the noisy signal minus the clean one. */
export function snrDb(clean: Signal, noisy: Signal): number {
  let es = 0;
  let en = 0;
  for (let i = 0; i < clean.length; i++) {
    es += clean[i] * clean[i];
    const d = noisy[i] - clean[i];
    en += d * d;
  }
  return 10 * Math.log10(es / en);
}

function toInt16(x: Signal, gain: number): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.round(x[i] * gain * 32768);
  return out;
}

/**
 * Mixes `speech` with the stretch of `noise` starting at `noiseOffset` (wrapping around when the noise is
 * shorter than the speech) at `snr` dB. Inputs are floats in [-1, 1); neither may be silent.
 */
export function mixAtSnr(speech: Signal, noise: Signal, snr: number, noiseOffset: number): Mixed {
  const n = segment(noise, noiseOffset, speech.length);
  const es = energy(speech);
  const en = energy(n);
  if (!(es > 0) || !(en > 0)) throw new Error(`cannot mix at an SNR: the ${es > 0 ? 'noise' : 'speech'} segment is silent`);
  const g = Math.sqrt(es / (en * 10 ** (snr / 10)));
  let peak = 0;
  for (let i = 0; i < speech.length; i++) peak = Math.max(peak, Math.abs(speech[i] + g * n[i]));
  const headroom = Math.min(1, MIX_PEAK / peak);
  const speechGain = headroom;
  const noiseGain = headroom * g;
  const clean = toInt16(speech, speechGain);
  const noiseQ = toInt16(n, noiseGain);
  const noisy = new Int16Array(clean.length);
  for (let i = 0; i < clean.length; i++) noisy[i] = clean[i] + noiseQ[i]; // |sum| ≤ MIX_PEAK·32768 + 1: no overflow
  return { clean, noise: noiseQ, noisy, speechGain, noiseGain };
}
