/**
 * Float64 reference forward of a FloatModel, streaming frame by frame exactly as the device frames a
 * clip (src/engine/framing.ts): the same int16 windows (scaled by 2^-15 as the integer path does), the
 * same features log2(P + 1) with samples in int16 scale, the same mask-and-overlap-add back end, with a
 * float FFT (fft.js) instead of the fixed-point one. Training and export use it to measure what int8
 * quantization costs, and `hil model init` uses its observed activation ranges.
 */
import { createRequire } from 'node:module';
import { ARCHS, GATES, LSTM_GATES, activationNames, cellActivations, layerPrefix, type Arch } from './arch.js';
import type { FloatModel } from './floatModel.js';
import { graphDims } from './graphDims.js';
import { deviceFrameCount } from '../engine/framing.js';
import { analysisWindowQ15, synthesisWindowQ15 } from '../engine/windows.js';

interface FftJs {
  realTransform(out: Float64Array, data: Float64Array): void;
  inverseTransform(out: Float64Array, data: Float64Array): void;
}
const FFT = createRequire(import.meta.url)('fft.js') as new (size: number) => FftJs;

export type Ranges = Record<string, [number, number]>;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** y = W x + b for row-major W [out][in]. */
function affine(w: Float32Array, b: Float32Array, x: Float64Array, y: Float64Array): void {
  const inF = x.length;
  for (let o = 0, base = 0; o < y.length; o++, base += inF) {
    let s = b[o];
    for (let i = 0; i < inF; i++) s += w[base + i] * x[i];
    y[o] = s;
  }
}

/** One recurrent layer's state (h, and c for an LSTM) and its per-frame activations by suffix. */
interface CellBuffers {
  h: Float64Array;
  c: Float64Array;
  v: Record<string, Float64Array>;
}

/** The float network and its stream state; one frame at a time. */
export class FloatStream {
  readonly nFft: number;
  readonly hop: number;
  readonly nBins: number;
  private readonly model: FloatModel;
  private readonly winA: Float64Array;
  private readonly winS: Float64Array;
  private readonly fft: FftJs;
  private readonly inbuf: Float64Array;
  private readonly ola: Float64Array;
  private readonly frame: Float64Array;
  private readonly spec: Float64Array;
  private readonly full: Float64Array;
  private readonly time: Float64Array;
  private readonly features: Float64Array;
  private readonly fcIn: Float64Array;
  private readonly arch: Arch;
  private readonly cells: CellBuffers[];
  private readonly maskPre: Float64Array;
  private readonly mask: Float64Array;
  private readonly observe: boolean;
  readonly ranges: Ranges = {};

  constructor(model: FloatModel, options: { observeRanges?: boolean } = {}) {
    const arch = ARCHS[model.arch];
    const dims = graphDims(model);
    this.model = model;
    this.nFft = arch.nFft;
    this.hop = model.hop;
    this.nBins = dims.nBins;
    this.observe = options.observeRanges ?? true;
    this.winA = Float64Array.from(analysisWindowQ15(this.nFft), (v) => v / 32768);
    this.winS = Float64Array.from(synthesisWindowQ15(this.nFft, this.hop), (v) => v / 32768);
    this.fft = new FFT(this.nFft);
    this.inbuf = new Float64Array(this.nFft);
    this.ola = new Float64Array(this.nFft);
    this.frame = new Float64Array(this.nFft);
    this.spec = new Float64Array(2 * this.nFft);
    this.full = new Float64Array(2 * this.nFft);
    this.time = new Float64Array(2 * this.nFft);
    this.features = new Float64Array(this.nBins);
    this.fcIn = new Float64Array(dims.d0);
    this.arch = arch;
    const perFrame = cellActivations(arch.cell).filter((s) => s !== 'h' && s !== 'c');
    this.cells = dims.hidden.map((H) => {
      const v: Record<string, Float64Array> = {};
      for (const s of perFrame) v[s] = new Float64Array(H);
      return { h: new Float64Array(H), c: new Float64Array(arch.cell === 'lstm' ? H : 0), v };
    });
    this.maskPre = new Float64Array(this.nBins);
    this.mask = new Float64Array(this.nBins);
    for (const name of activationNames(arch)) this.ranges[name] = [Infinity, -Infinity];
  }

  reset(): void {
    this.inbuf.fill(0);
    this.ola.fill(0);
    for (const g of this.cells) {
      g.h.fill(0);
      g.c.fill(0);
    }
  }

  private note(name: string, v: Float64Array): void {
    if (!this.observe) return;
    const r = this.ranges[name];
    for (let i = 0; i < v.length; i++) {
      if (v[i] < r[0]) r[0] = v[i];
      if (v[i] > r[1]) r[1] = v[i];
    }
  }

  /** GRU, PyTorch convention: h' = (1 − z)·n + z·h, written as the lowering computes it (§9). */
  private gruStep(g: CellBuffers, p: string, x: Float64Array): void {
    const W = this.model.weights;
    const v = g.v;
    for (const gate of GATES) {
      affine(W[`${p}w_x${gate}`].data, W[`${p}b_x${gate}`].data, x, v[`x${gate}`]);
      affine(W[`${p}w_h${gate}`].data, W[`${p}b_h${gate}`].data, g.h, v[`h${gate}`]);
    }
    for (let i = 0; i < g.h.length; i++) {
      v.z_pre[i] = v.xz[i] + v.hz[i];
      v.z[i] = sigmoid(v.z_pre[i]);
      v.r_pre[i] = v.xr[i] + v.hr[i];
      v.r[i] = sigmoid(v.r_pre[i]);
      v.rhn[i] = v.r[i] * v.hn[i];
      v.n_pre[i] = v.xn[i] + v.rhn[i];
      v.n[i] = Math.tanh(v.n_pre[i]);
      v.h_minus_n[i] = g.h[i] - v.n[i];
      v.z_h_minus_n[i] = v.z[i] * v.h_minus_n[i];
      v.h_next[i] = v.n[i] + v.z_h_minus_n[i];
    }
  }

  /** LSTM, PyTorch convention: c' = f·c + i·g, h' = o·tanh(c'). */
  private lstmStep(g: CellBuffers, p: string, x: Float64Array): void {
    const W = this.model.weights;
    const v = g.v;
    for (const gate of LSTM_GATES) {
      affine(W[`${p}w_x${gate}`].data, W[`${p}b_x${gate}`].data, x, v[`x${gate}`]);
      affine(W[`${p}w_h${gate}`].data, W[`${p}b_h${gate}`].data, g.h, v[`h${gate}`]);
      const pre = v[`${gate}_pre`], out = v[gate], xs = v[`x${gate}`], hs = v[`h${gate}`];
      const fn = gate === 'g' ? Math.tanh : sigmoid;
      for (let i = 0; i < pre.length; i++) {
        pre[i] = xs[i] + hs[i];
        out[i] = fn(pre[i]);
      }
    }
    for (let i = 0; i < g.h.length; i++) {
      v.c_f[i] = v.f[i] * g.c[i];
      v.i_g[i] = v.i[i] * v.g[i];
      v.c_next[i] = v.c_f[i] + v.i_g[i];
      v.tanh_c[i] = Math.tanh(v.c_next[i]);
      v.h_next[i] = v.o[i] * v.tanh_c[i];
    }
  }

  /** One hop of int16-scale samples in, one hop out (float, int16 scale, not saturated). */
  runFrame(input: ArrayLike<number>, out: Float64Array = new Float64Array(this.hop)): Float64Array {
    const { nFft: n, hop, nBins: nb, model } = this;
    const W = model.weights;
    this.inbuf.copyWithin(0, hop);
    for (let k = 0; k < hop; k++) this.inbuf[n - hop + k] = input[k];
    for (let k = 0; k < n; k++) this.frame[k] = this.inbuf[k] * this.winA[k];
    this.fft.realTransform(this.spec, this.frame);
    for (let k = 0; k < nb; k++) {
      const re = this.spec[2 * k], im = this.spec[2 * k + 1];
      this.features[k] = Math.log2(re * re + im * im + 1);
    }
    this.note('features', this.features);

    affine(W['fc_in.w'].data, W['fc_in.b'].data, this.features, this.fcIn);
    for (let i = 0; i < this.fcIn.length; i++) if (this.fcIn[i] < 0) this.fcIn[i] = 0;
    this.note('fc_in', this.fcIn);
    let x = this.fcIn;
    this.cells.forEach((g, l) => {
      const p = layerPrefix(this.arch, l);
      if (this.arch.cell === 'lstm') this.lstmStep(g, p, x);
      else this.gruStep(g, p, x);
      if (this.observe) {
        for (const [s, arr] of Object.entries(g.v)) this.note(p + s, arr);
        this.note(p + 'h', g.h);
        if (this.arch.cell === 'lstm') this.note(p + 'c', g.c);
      }
      g.h.set(g.v.h_next);
      if (this.arch.cell === 'lstm') g.c.set(g.v.c_next);
      x = g.v.h_next;
    });
    affine(W['fc_out.w'].data, W['fc_out.b'].data, x, this.maskPre);
    for (let k = 0; k < nb; k++) this.mask[k] = sigmoid(this.maskPre[k]);
    this.note('mask_pre', this.maskPre);
    this.note('mask', this.mask);

    const full = this.full;
    for (let k = 0; k < nb; k++) {
      full[2 * k] = this.spec[2 * k] * this.mask[k];
      full[2 * k + 1] = this.spec[2 * k + 1] * this.mask[k];
    }
    for (let k = nb; k < n; k++) {
      full[2 * k] = full[2 * (n - k)];
      full[2 * k + 1] = -full[2 * (n - k) + 1];
    }
    this.fft.inverseTransform(this.time, full); // divides by n, like the integer inverse FFT
    for (let k = 0; k < n; k++) this.ola[k] += this.time[2 * k] * this.winS[k];
    for (let k = 0; k < hop; k++) out[k] = this.ola[k];
    this.ola.copyWithin(0, hop);
    this.ola.fill(0, n - hop);
    return out;
  }
}

export interface ForwardResult {
  /** Enhanced audio in int16 scale (float, unsaturated), time-aligned with the input like the device path. */
  output: Float64Array;
  /** Observed [min, max] per activation name (arch.activationNames). */
  ranges: Ranges;
}

/** Runs a clip through the float model with the device's framing (flush frames, delay dropped). */
export function floatForward(model: FloatModel, pcm: ArrayLike<number>, stream = new FloatStream(model)): ForwardResult {
  const { hop, nFft } = stream;
  stream.reset();
  const frames = deviceFrameCount(pcm.length, hop, nFft);
  const delay = nFft - hop;
  const output = new Float64Array(pcm.length);
  const inFrame = new Float64Array(hop);
  const outFrame = new Float64Array(hop);
  for (let f = 0; f < frames; f++) {
    for (let k = 0; k < hop; k++) {
      const i = f * hop + k;
      inFrame[k] = i < pcm.length ? pcm[i] : 0;
    }
    stream.runFrame(inFrame, outFrame);
    for (let k = 0; k < hop; k++) {
      const i = f * hop + k - delay;
      if (i >= 0 && i < pcm.length) output[i] = outFrame[k];
    }
  }
  return { output, ranges: stream.ranges };
}

/** Ranges observed over several clips, merged. Tensors never seen keep [Infinity, -Infinity] and are dropped. */
export function observeRanges(model: FloatModel, clips: ArrayLike<number>[]): Ranges {
  const stream = new FloatStream(model, { observeRanges: true });
  for (const clip of clips) floatForward(model, clip, stream);
  const out: Ranges = {};
  for (const [k, r] of Object.entries(stream.ranges)) if (r[0] <= r[1]) out[k] = [r[0], r[1]];
  return out;
}
