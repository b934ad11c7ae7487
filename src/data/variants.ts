/**
 * Robustness variants of a test split: the same mixtures as a user's own recordings might reach a model,
 * band-limited, resampled through another rate, or much quieter or louder (issue 14, docs/corpus.md,
 * "Robustness variants"). Each variant is a sox effect chain, or a gain, applied to the noisy file; the clean
 * reference goes through the same gain (SI-SDR does not care, BSS Eval SDR nearly not) and is otherwise left
 * as recorded, so a variant that removes speech is scored as losing it.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { soxFloat } from './decode.js';
import { CORPUS_RATE } from './sox.js';
import { readWavMono, toInt16, writePcm16 } from './wav.js';

export interface Variant {
  name: string;
  what: string;
  /** sox effects at the corpus rate (they may change the rate; the chain ends back at 16 kHz). */
  effects?: string[];
  /** Scale the noisy file to this RMS (dBFS); the clean file gets the same gain. Samples clip at full scale. */
  levelDb?: number;
}

export const VARIANTS: readonly Variant[] = [
  { name: 'lowpass-7600', what: 'sox sinc -7600 (band-limited to 7.6 kHz)', effects: ['sinc', '-7600'] },
  { name: 'lowpass-3400', what: 'sox sinc -3400 (telephone band)', effects: ['sinc', '-3400'] },
  { name: 'via-48k-stereo', what: 'resampled to 48 kHz stereo and back', effects: ['rate', '-v', '48000', 'channels', '2', 'channels', '1'] },
  { name: 'via-8k', what: 'resampled to 8 kHz and back', effects: ['rate', '-v', '8000'] },
  { name: 'level-40', what: 'noisy RMS at -40 dBFS', levelDb: -40 },
  { name: 'level-6', what: 'noisy RMS at -6 dBFS (peaks clip)', levelDb: -6 },
];

export function variantByName(name: string): Variant | undefined {
  return VARIANTS.find((v) => v.name === name);
}

function rmsDb(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return 10 * Math.log10(s / Math.max(1, x.length) + 1e-30);
}

/** One mixture through a variant: noisy and clean, as float samples at the corpus rate, same length as given. */
export async function applyVariant(noisy: Float32Array, clean: Float32Array, v: Variant): Promise<{ noisy: Float32Array; clean: Float32Array }> {
  if (v.levelDb !== undefined) {
    const g = 10 ** ((v.levelDb - rmsDb(noisy)) / 20);
    return { noisy: noisy.map((s) => s * g), clean: clean.map((s) => s * g) };
  }
  const y = await soxFloat(noisy, CORPUS_RATE, v.effects ?? [], CORPUS_RATE, v.name);
  const out = new Float32Array(noisy.length);
  out.set(y.subarray(0, noisy.length));
  return { noisy: out, clean: Float32Array.from(clean) };
}

/**
 * Writes `<outDir>/noisy/*.wav` and `<outDir>/clean/*.wav`: every pair of `noisyDir`/`cleanDir` (or the first
 * `limit`) through `v`. The set appears whole or not at all (built beside and renamed), so an interrupted
 * call leaves nothing a later one would take for finished.
 */
export async function writeVariantSet(noisyDir: string, cleanDir: string, outDir: string, v: Variant, limit?: number): Promise<number> {
  const names = readdirSync(noisyDir)
    .filter((f) => f.toLowerCase().endsWith('.wav'))
    .sort()
    .slice(0, limit);
  const tmp = `${outDir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'noisy'), { recursive: true });
  mkdirSync(join(tmp, 'clean'), { recursive: true });
  for (const name of names) {
    const n = Float32Array.from(readWavMono(join(noisyDir, name), CORPUS_RATE).samples);
    const c = Float32Array.from(readWavMono(join(cleanDir, name), CORPUS_RATE).samples);
    const r = await applyVariant(n, c, v);
    writePcm16(join(tmp, 'noisy', name), toInt16(Float64Array.from(r.noisy)), CORPUS_RATE);
    writePcm16(join(tmp, 'clean', name), toInt16(Float64Array.from(r.clean)), CORPUS_RATE);
  }
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  return names.length;
}
