/**
 * Validation quality of a compressed model on the corpus's val mixtures: the int8 blob through the host
 * engine (bit-exact with the device, so this is what a board would output), and the float model through
 * the float64 reference forward for comparison. Both are scored with hil's metrics (BSS Eval v3 SDR and
 * zero-mean SI-SDR, docs/metrics.md) against the clean references, and averaged over the mixtures.
 */
import { Engine, runClipOnHost } from '../engine/index.js';
import { floatForward, FloatStream } from '../model/forward.js';
import type { FloatModel } from '../model/floatModel.js';
import type { ValItem } from '../model/dataset.js';
import { scorePair, SilentEstimateError } from '../metrics/index.js';
import type { ValScores } from './manifestSchema.js';

export type { ValScores };

function toPcm(x: Float32Array): Int16Array {
  // Val mixtures are 16-bit WAVs read as q/32768, so this is exact.
  return Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
}

function meanScores(val: readonly ValItem[], estimate: (it: ValItem, k: number) => Float64Array): ValScores {
  let sdr = 0, sisdr = 0, n = 0, silent = 0;
  val.forEach((it, k) => {
    try {
      const s = scorePair(Float64Array.from(it.clean), estimate(it, k), { reference: `val/clean/${it.id}`, estimate: `enhanced ${it.id}` });
      sdr += s.sdr;
      sisdr += s.sisdr;
      n++;
    } catch (e) {
      if (e instanceof SilentEstimateError) silent++;
      else throw e;
    }
  });
  return { items: n, silent, sdr: n ? sdr / n : NaN, sisdr: n ? sisdr / n : NaN };
}

export function scoreBlob(blob: Uint8Array, val: readonly ValItem[], progress?: (done: number) => void): ValScores {
  const engine = new Engine(blob);
  return meanScores(val, (it, k) => {
    const out = runClipOnHost(engine, toPcm(it.noisy)).output;
    progress?.(k + 1);
    return Float64Array.from(out, (v) => v / 32768);
  });
}

export function scoreFloat(model: FloatModel, val: readonly ValItem[]): ValScores {
  const stream = new FloatStream(model);
  return meanScores(val, (it) => floatForward(model, toPcm(it.noisy), stream).output.map((v) => v / 32768));
}

export function scoreNoisy(val: readonly ValItem[]): ValScores {
  return meanScores(val, (it) => Float64Array.from(it.noisy));
}
