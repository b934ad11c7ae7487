/**
 * SI-SDR (scale-invariant SDR), Le Roux, Wisdom, Erdogan, Hershey, "SDR – half-baked or well done?",
 * ICASSP 2019, with the paper's zero-mean convention: both signals have their mean removed first.
 *
 *   s = reference − mean(reference),  ŝ = estimate − mean(estimate)
 *   α = ⟨ŝ, s⟩ / ‖s‖²,  e_target = α·s,  e_res = ŝ − e_target
 *   SI-SDR = 10·log10(‖e_target‖² / ‖e_res‖²)
 *
 * No delay or filter is allowed (unlike BSS Eval's SDR): a one-sample misalignment already costs dB,
 * which is why the host trims the device's fixed latency before scoring. A DC offset in the estimate
 * costs nothing here (the mean is removed) but counts as error in SDR.
 */
import { ratioDb } from './sdr.js';
import { checkPair, DEFAULT_NAMES, type PairNames } from './validate.js';

export function sisdr(reference: Float64Array, estimate: Float64Array, names: PairNames = DEFAULT_NAMES): number {
  checkPair(reference, estimate, names);
  const n = reference.length;
  const s = centred(reference);
  const e = centred(estimate);
  let ss = 0;
  let es = 0;
  for (let i = 0; i < n; i++) {
    ss += s[i] * s[i];
    es += e[i] * s[i];
  }
  // checkPair refused constant signals, so both energies are positive: a non-constant signal keeps
  // nonzero samples after its mean is removed.
  const alpha = es / ss;
  // The residual is formed sample by sample rather than as ‖ŝ‖² − α²‖s‖²: that difference cancels
  // catastrophically when SI-SDR is high.
  let targetEnergy = 0;
  let residualEnergy = 0;
  for (let i = 0; i < n; i++) {
    const t = alpha * s[i];
    const r = e[i] - t;
    targetEnergy += t * t;
    residualEnergy += r * r;
  }
  return ratioDb(targetEnergy, residualEnergy);
}

function centred(x: Float64Array): Float64Array {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i];
  const mean = sum / x.length;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] - mean;
  return out;
}
