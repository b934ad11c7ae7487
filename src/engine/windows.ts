/**
 * The STFT windows the exporter puts in a blob (docs/model-format.md §1), in Q15: square-root periodic Hann
 * for analysis, scaled by 2·hop/n_fft for synthesis so that overlap-add has unity gain. The float forward
 * (src/model/forward.ts) uses these same int16 values, so float and int8 paths see the same window.
 * Training's float windows (src/model/stft.ts) are built from the same sqrtHann, so the two differ only by
 * the Q15 rounding.
 */

/** sqrt of the periodic Hann window, in float. */
export function sqrtHann(nFft: number): Float64Array {
  const w = new Float64Array(nFft);
  for (let n = 0; n < nFft; n++) w[n] = Math.sqrt(0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft));
  return w;
}

export function analysisWindowQ15(nFft: number): Int16Array {
  return Int16Array.from(sqrtHann(nFft), (v) => Math.round(32767 * v));
}

export function synthesisWindowQ15(nFft: number, hop: number): Int16Array {
  const gain = (2 * hop) / nFft;
  return Int16Array.from(sqrtHann(nFft), (v) => Math.round(32767 * v * gain));
}
