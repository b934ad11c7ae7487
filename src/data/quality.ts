/**
 * Measured gates for recorded speech (docs/corpus.md, "Real speech"): a file is kept only when its content
 * reaches the top of the 16 kHz band, it is not clipped, and its pauses are well below its speech. The
 * thresholds were set on the packages' own files (a Catalan Tux Paint description, sampled at 44.1 kHz but
 * recorded through a ≈ 4 kHz channel, measures −44 dB above 4 kHz; Asterisk's studio prompts −21…−26 dB).
 */
import { Fft } from '../metrics/fft.js';
import type { Signal } from './audio.js';
import { CORPUS_RATE } from './sox.js';

/** Share of the energy above 4 kHz (active frames, 16 kHz audio) below which a file counts as band-limited. */
export const MIN_HF_4K_DB = -35;
/** Share of the energy in 6–8 kHz below which a file counts as band-limited (low-bit-rate codecs cut there). */
export const MIN_HF_6K_DB = -50;
/** Largest share of samples in clipped runs (two or more consecutive samples at full scale). */
export const MAX_CLIPPED = 1e-4;
/** Smallest spread between loud (95th percentile) and quiet (5th percentile) 20 ms frames: the pauses of a noisy recording stay near its speech. */
export const MIN_DYNAMIC_RANGE_DB = 25;
/** |x| at or above this, native rate, counts as full scale (int16 32735 and up). */
const FULL_SCALE = 0.999;

export interface Quality {
  /** 10·log10(energy above 4 kHz / total) over active frames. */
  hf4kDb: number;
  /** 10·log10(energy in 6–8 kHz / total) over active frames. */
  hf6kDb: number;
  /** Share of samples (native rate) in clipped runs. */
  clipped: number;
  /** p95 − p5 of 20 ms frame levels (dB), 16 kHz audio. */
  dynamicRangeDb: number;
}

const FRAME = 512;
const HOP = 256;
/** A frame within this many dB of the loudest frame is active. */
const ACTIVE_DB = 40;

let fft: Fft | null = null;
let window: Float64Array | null = null;

/** Band energies of 16 kHz audio (Hann frames of 512, hop 256), over frames within 40 dB of the loudest. */
export function bandShares(x: Signal): { hf4kDb: number; hf6kDb: number } {
  fft ??= new Fft(FRAME);
  window ??= Float64Array.from({ length: FRAME }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FRAME));
  const frames: { e: number; bins: Float64Array }[] = [];
  const buf = new Float64Array(FRAME);
  for (let s = 0; s + FRAME <= Math.max(x.length, FRAME); s += HOP) {
    buf.fill(0);
    for (let i = 0; i < FRAME && s + i < x.length; i++) buf[i] = x[s + i] * window[i];
    const spec = fft.forward(buf);
    const bins = new Float64Array(FRAME / 2 + 1);
    let e = 0;
    for (let k = 1; k <= FRAME / 2; k++) {
      bins[k] = spec[2 * k] ** 2 + spec[2 * k + 1] ** 2;
      e += bins[k];
    }
    frames.push({ e, bins });
  }
  const top = Math.max(...frames.map((f) => f.e));
  const k4 = Math.round((4000 / CORPUS_RATE) * FRAME);
  const k6 = Math.round((6000 / CORPUS_RATE) * FRAME);
  let total = 0;
  let above4 = 0;
  let above6 = 0;
  for (const f of frames) {
    if (!(f.e > 0) || f.e < top * 10 ** (-ACTIVE_DB / 10)) continue;
    for (let k = 1; k <= FRAME / 2; k++) {
      total += f.bins[k];
      if (k >= k4) above4 += f.bins[k];
      if (k >= k6) above6 += f.bins[k];
    }
  }
  const db = (a: number) => (total > 0 && a > 0 ? 10 * Math.log10(a / total) : -200);
  return { hf4kDb: db(above4), hf6kDb: db(above6) };
}

/** Share of samples in runs of ≥ 2 consecutive samples at full scale. */
export function clippedShare(x: Signal): number {
  let n = 0;
  let run = 0;
  for (let i = 0; i <= x.length; i++) {
    if (i < x.length && Math.abs(x[i]) >= FULL_SCALE) run++;
    else {
      if (run >= 2) n += run;
      run = 0;
    }
  }
  return x.length ? n / x.length : 0;
}

/** p95 − p5 of 20 ms frame RMS levels in dB (frames of digital silence count at −120 dB). */
export function dynamicRangeDb(x: Signal, rate = CORPUS_RATE): number {
  const len = Math.round(0.02 * rate);
  const levels: number[] = [];
  for (let s = 0; s + len <= x.length; s += len) {
    let e = 0;
    for (let i = s; i < s + len; i++) e += x[i] * x[i];
    levels.push(Math.max(-120, 10 * Math.log10(e / len + 1e-30)));
  }
  if (levels.length < 2) return 0;
  levels.sort((a, b) => a - b);
  const at = (q: number) => levels[Math.min(levels.length - 1, Math.floor(q * levels.length))];
  return at(0.95) - at(0.05);
}

export function measure(native: Signal, at16k: Signal): Quality {
  const r = (v: number) => Math.round(v * 100) / 100;
  const { hf4kDb, hf6kDb } = bandShares(at16k);
  return { hf4kDb: r(hf4kDb), hf6kDb: r(hf6kDb), clipped: Math.round(clippedShare(native) * 1e7) / 1e7, dynamicRangeDb: r(dynamicRangeDb(at16k)) };
}

/** Why a file fails the gates, or null when it passes. */
export function qualityProblem(q: Quality): string | null {
  if (q.hf4kDb < MIN_HF_4K_DB) return `band-limited: ${q.hf4kDb} dB of its energy above 4 kHz (< ${MIN_HF_4K_DB} dB)`;
  if (q.hf6kDb < MIN_HF_6K_DB) return `band-limited: ${q.hf6kDb} dB of its energy in 6–8 kHz (< ${MIN_HF_6K_DB} dB)`;
  if (q.clipped > MAX_CLIPPED) return `clipped: ${(q.clipped * 100).toFixed(3)} % of samples at full scale`;
  if (q.dynamicRangeDb < MIN_DYNAMIC_RANGE_DB) return `noisy: pauses only ${q.dynamicRangeDb} dB below speech (< ${MIN_DYNAMIC_RANGE_DB} dB)`;
  return null;
}
