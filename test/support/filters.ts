/** Small deterministic signal operations for building test pairs. */

/** y = b/a applied causally with zero initial state (a[0] normalises). */
export function lfilter(b: number[], a: number[], x: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let n = 0; n < x.length; n++) {
    let v = 0;
    for (let k = 0; k < b.length && k <= n; k++) v += b[k] * x[n - k];
    for (let k = 1; k < a.length && k <= n; k++) v -= a[k] * y[n - k];
    y[n] = v / a[0];
  }
  return y;
}

/** Linear-phase low-pass FIR: Hamming-windowed sinc, `taps` odd, cutoff in Hz. */
export function firLowpass(taps: number, cutoffHz: number, sampleRate: number): number[] {
  const fc = cutoffHz / sampleRate;
  const mid = (taps - 1) / 2;
  const h: number[] = [];
  for (let k = 0; k < taps; k++) {
    const t = k - mid;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    h.push(sinc * (0.54 - 0.46 * Math.cos((2 * Math.PI * k) / (taps - 1))));
  }
  const sum = h.reduce((s, v) => s + v, 0);
  return h.map((v) => v / sum);
}

/** Delays by `d` samples, keeping the length (the tail falls off, zeros come in). */
export function delay(x: Float64Array, d: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = d; i < x.length; i++) y[i] = x[i - d];
  return y;
}

export function energy(x: Float64Array): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) e += x[i] * x[i];
  return e;
}

/** x + interferer scaled so that energy(x) / energy(scaled interferer) is `ratioDb`. */
export function addAt(x: Float64Array, interferer: Float64Array, ratioDb: number): Float64Array {
  const g = Math.sqrt(energy(x) / (energy(interferer) * 10 ** (ratioDb / 10)));
  return x.map((v, i) => v + g * interferer[i]);
}

export function scale(x: Float64Array, g: number): Float64Array {
  return x.map((v) => v * g);
}
