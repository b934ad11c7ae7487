/**
 * A clip set scored through the host engine: the int8 blob run exactly as a board runs it (every board is
 * checked bit-exact against this engine on every clip), without a board or a serial line. For quick
 * figures during training and for the robustness tests; results a user reads come from a board run.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromInt16, readPcm16 } from '../data/wav.js';
import { Engine, runClipOnHost } from '../engine/index.js';
import { scorePair } from '../metrics/index.js';
import type { ClipScore } from '../report/corpusBreakdown.js';

/** A clip's SDR and SI-SDR before and after enhancement (`enhanced` in [−1, 1] full scale), against `clean`. */
export function scoreEnhanced(clip: string, noisy: Int16Array, clean: Int16Array, enhanced: Float64Array): ClipScore {
  const ref = fromInt16(clean);
  const before = scorePair(ref, fromInt16(noisy));
  const after = scorePair(ref, enhanced);
  return { clip, sdrNoisy: before.sdr, sdrImprovement: after.sdr - before.sdr, sisdrImprovement: after.sisdr - before.sisdr };
}

/** One clip through `engine`, scored as `scoreEnhanced` does. */
export function scoreClipOnHost(engine: Engine, clip: string, noisy: Int16Array, clean: Int16Array): ClipScore {
  return scoreEnhanced(clip, noisy, clean, fromInt16(runClipOnHost(engine, noisy).output));
}

export function scoreSetOnHost(blob: Uint8Array, noisyDir: string, cleanDir: string, opts: { limit?: number; stride?: number } = {}): ClipScore[] {
  const engine = new Engine(blob);
  const stride = opts.stride ?? 1;
  const names = readdirSync(noisyDir)
    .filter((f) => f.toLowerCase().endsWith('.wav'))
    .sort()
    .filter((_, i) => i % stride === 0)
    .slice(0, opts.limit);
  return names.map((name) =>
    scoreClipOnHost(engine, name.replace(/\.wav$/i, ''), readPcm16(join(noisyDir, name), 16000).samples, readPcm16(join(cleanDir, name), 16000).samples),
  );
}
