/**
 * The STFT windows the exporter puts in a blob (docs/model-format.md §1): square-root periodic Hann for
 * analysis, scaled by 2·hop/n_fft for synthesis so that overlap-add has unity gain. The float forward
 * (src/model/forward.ts) uses these same int16 values, so float and int8 paths see the same window.
 */
export function analysisWindow(nFft: number): Int16Array {
  const w = new Int16Array(nFft);
  for (let n = 0; n < nFft; n++) w[n] = Math.round(32767 * Math.sqrt(0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft)));
  return w;
}

export function synthesisWindow(nFft: number, hop: number): Int16Array {
  const w = new Int16Array(nFft);
  const gain = (2 * hop) / nFft;
  for (let n = 0; n < nFft; n++) w[n] = Math.round(32767 * Math.sqrt(0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft)) * gain);
  return w;
}
