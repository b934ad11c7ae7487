/**
 * The streaming SE network in TensorFlow.js, for training. The math is the firmware's frame by frame
 * (docs/model-format.md §9): FC(257→d0)+ReLU, GRU or LSTM layers in PyTorch's gate convention, FC(h→257)+sigmoid;
 * the recurrent cell is written out so that every weight matrix can be masked (pruning) and fake-quantised
 * (QAT) and every canonical activation tensor can be observed and fake-quantised. Sequences run with an
 * explicit state (zero at the start, as after STREAM_RESET), so a sequence split into chunks gives the
 * same result as one call.
 *
 * Per recurrent layer the gates' matrices (3 for a GRU, 4 for an LSTM) are concatenated along the output
 * axis for one matmul per input and per frame; per-channel weight quantization and per-gate activation quantization are
 * unaffected (each row is its own channel; each gate's columns get their own scale).
 */
import seedrandom from 'seedrandom';
import { ARCHS, cellGates, layerPrefix, weightNames, type Arch, type ArchName } from './arch.js';
import type { FeatureNormJson, FloatModel, Tensor } from './floatModel.js';
import { fakeQuant, roundHalfAway } from './tfFakeQuant.js';
import type { QuantParams } from './qat.js';
import { tf } from './tfBackend.js';
import { FORGET_BIAS_INIT } from './init.js';

/** How a forward pass quantizes: weights per-channel int8 or not, activations by name or not. */
export interface QuantMode {
  weights: boolean;
  /** Params for an activation name, or undefined to leave it float (not observed yet, or float training). */
  act(name: string): QuantParams | undefined;
}

export const FLOAT_MODE: QuantMode = { weights: false, act: () => undefined };

/**
 * Per-bin normalisation of the log-power features, `(x − mean)/std`, applied by the first FC. Raw features
 * have a large common offset (10–40 in log2 units) and bin-dependent spreads; without normalisation fc_in's
 * outputs grow into the hundreds, the first GRU's gates saturate and training stalls. The device never
 * sees it: the exported fc_in has it folded in (`foldFeatureNorm`), so the blob's input stays the raw features.
 */
export interface FeatureNorm {
  mean: Float32Array;
  std: Float32Array;
}

/** Per-tensor min/max of the named activations of one forward pass (as tensors, kept outside tidy). */
export type RecordedRanges = Map<string, { min: tf.Tensor; max: tf.Tensor }>;

export interface ForwardOptions {
  quant?: QuantMode;
  /** Recurrent state from a previous chunk, [B, H] each: per layer h (GRU), or h then c (LSTM); zeros when absent. */
  state?: tf.Tensor2D[];
  /** When set, fills per-activation min/max (for the range observer). */
  record?: RecordedRanges;
}

export interface ForwardResult {
  /** [B, T, 257] in (0, 1). */
  mask: tf.Tensor3D;
  state: tf.Tensor2D[];
}

export function weightShape(arch: Arch, name: string): number[] {
  const [layer, param] = name.split('.');
  const H = arch.hidden;
  if (layer === 'fc_in') return param === 'w' ? [arch.d0, arch.nBins] : [arch.d0];
  if (layer === 'fc_out') return param === 'w' ? [arch.nBins, H] : [arch.nBins];
  const l = Number(layer.slice(arch.cell.length));
  const inDim = l === 0 ? arch.d0 : H;
  if (param.startsWith('w_x')) return [H, inDim];
  if (param.startsWith('w_h')) return [H, H];
  return [H];
}

/** Weight matrices (the prunable tensors), in canonical order. */
export function matrixNames(arch: Arch): string[] {
  return weightNames(arch).filter((n) => weightShape(arch, n).length === 2);
}

/**
 * PyTorch's default initialisation (uniform ±1/sqrt(fan_in)), seeded. fc_in is scaled down by the
 * typical feature magnitude (log2 power of int16-scale audio is 10–40) so its ReLU starts in range.
 */
export function initWeights(arch: Arch, seed: number): Record<string, Tensor> {
  const rng = seedrandom(`hil-init:${arch.name}:${seed}`);
  const out: Record<string, Tensor> = {};
  for (const name of weightNames(arch)) {
    const shape = weightShape(arch, name);
    const fanIn = name.startsWith('fc_in') ? arch.nBins : name.startsWith('fc_out') ? arch.hidden : name.includes('_x') && name.startsWith(layerPrefix(arch, 0)) ? arch.d0 : arch.hidden;
    let bound = 1 / Math.sqrt(fanIn);
    if (name === 'fc_in.w') bound /= 16;
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (2 * rng() - 1) * bound;
    // The LSTM forget gate starts open (src/model/init.ts FORGET_BIAS_INIT): +1 on top of the random bias.
    if (arch.cell === 'lstm' && /^lstm\d+\.b_xf$/.test(name)) for (let i = 0; i < data.length; i++) data[i] += FORGET_BIAS_INIT;
    out[name] = { shape, data };
  }
  return out;
}

/** Per-row symmetric int8 fake quantization with a straight-through gradient. */
export const fakeQuantWeight = tf.customGrad((w) => {
  const x = w as tf.Tensor2D;
  // An all-zero row gets scale 1/127 as in the exporter (its values quantize to 0 either way).
  const maxAbs = tf.max(tf.abs(x), 1, true);
  const scale = tf.where(maxAbs.greater(0), maxAbs, tf.onesLike(maxAbs)).div(127);
  const value = tf.clipByValue(roundHalfAway(x.div(scale)), -127, 127).mul(scale);
  return { value, gradFunc: (dy) => [dy as tf.Tensor] };
});

let instances = 0;

export class SeNet {
  readonly arch: Arch;
  readonly vars: Record<string, tf.Variable> = {};
  /** Pruning masks by weight name (1 keep, 0 drop), fixed during a step. */
  readonly masks: Record<string, tf.Tensor> = {};
  /** [1, nBins] 1/std and [nBins, 1] mean, when fc_in's weights act on normalised features. */
  private readonly normT?: { invStd: tf.Tensor2D; mean: tf.Tensor2D };

  /**
   * `weights` act on normalised features when `norm` is given (fc_in sees `(x − mean)/std`), on the raw
   * log-power features otherwise.
   */
  constructor(
    archName: ArchName,
    readonly hop: 128 | 256,
    weights: Record<string, Tensor>,
    readonly norm?: FeatureNorm,
  ) {
    this.arch = ARCHS[archName];
    if (norm) {
      const n = this.arch.nBins;
      if (norm.mean.length !== n || norm.std.length !== n || norm.std.some((v) => !(v > 0))) throw new Error(`feature normalisation needs ${n} means and positive stds`);
      this.normT = {
        invStd: tf.keep(tf.tensor2d(Float32Array.from(norm.std, (v) => 1 / v), [1, n])),
        mean: tf.keep(tf.tensor2d(norm.mean, [n, 1])),
      };
    }
    // tfjs variable names are global per process; a counter keeps concurrent nets apart.
    const id = instances++;
    for (const name of weightNames(this.arch)) {
      const t = weights[name];
      const shape = weightShape(this.arch, name);
      if (!t || t.shape.join('x') !== shape.join('x')) throw new Error(`weight ${name}: expected shape [${shape}], got [${t?.shape}]`);
      this.vars[name] = tf.variable(tf.tensor(t.data, shape), true, `hil${id}/${name}`);
    }
  }

  dispose(): void {
    for (const v of Object.values(this.vars)) v.dispose();
    for (const m of Object.values(this.masks)) m.dispose();
    this.normT?.invStd.dispose();
    this.normT?.mean.dispose();
  }

  setMask(name: string, mask: Float32Array | undefined): void {
    const v = this.vars[name];
    if (!v) throw new Error(`no weight named ${name}`);
    this.masks[name]?.dispose();
    delete this.masks[name];
    if (!mask) return;
    if (mask.length !== v.size) throw new Error(`mask for ${name} has ${mask.length} values, weight has ${v.size}`);
    this.masks[name] = tf.keep(tf.tensor(mask, v.shape));
    this.applyMasks([name]);
  }

  /** Zeroes masked weights (after an optimizer step, so pruned weights stay exactly zero). */
  applyMasks(names = Object.keys(this.masks)): void {
    for (const n of names) {
      const m = this.masks[n];
      if (m) this.vars[n].assign(tf.tidy(() => this.vars[n].mul(m)));
    }
  }

  readWeights(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, v] of Object.entries(this.vars)) out[name] = { shape: v.shape.slice(), data: v.dataSync() as Float32Array };
    return out;
  }

  /** The weight as the forward uses it: masked, then (QAT) fake-quantised. */
  private effective(name: string, quantize: boolean): tf.Tensor {
    let w: tf.Tensor = this.vars[name];
    const m = this.masks[name];
    if (m) w = w.mul(m);
    return quantize && w.rank === 2 ? fakeQuantWeight(w as tf.Tensor2D) : w;
  }

  /**
   * fc_in on raw features. With normalisation it runs folded, as the exported model does:
   * `W' = W/std` (per column), `b' = b − W'·mean`, and QAT fake-quantises W' (the matrix the exporter
   * quantises per row), while b' comes from the float W' (the exporter's bias is int32 of the float b').
   */
  private fcIn(x: tf.Tensor2D, quantize: boolean): tf.Tensor2D {
    if (!this.normT) return tf.matMul(x, tf.transpose(this.effective('fc_in.w', quantize) as tf.Tensor2D)).add(this.vars['fc_in.b']) as tf.Tensor2D;
    const folded = this.effective('fc_in.w', false).mul(this.normT.invStd) as tf.Tensor2D;
    const bias = this.vars['fc_in.b'].sub(tf.matMul(folded, this.normT.mean).reshape([-1]));
    const w = quantize ? fakeQuantWeight(folded) : folded;
    return tf.matMul(x, tf.transpose(w)).add(bias) as tf.Tensor2D;
  }

  /** Runs T frames for a batch of sequences. features: [B, T, 257] log2 power. */
  forward(features: tf.Tensor3D, opts: ForwardOptions = {}): ForwardResult {
    const quant = opts.quant ?? FLOAT_MODE;
    const rec = opts.record;
    const [B, T] = features.shape;
    const { hidden: H, nBins } = this.arch;

    /** Records and fake-quantises a tensor whose last axis holds the given names' columns in order. */
    const act = (x: tf.Tensor, names: string[]): tf.Tensor => {
      if (rec) recordColumns(rec, x, names);
      const ps = names.map((n) => quant.act(n));
      if (ps.some((p) => !p)) return x;
      const width = x.shape[x.shape.length - 1] / names.length;
      const scale = names.length === 1 ? [ps[0]!.scale] : ps.flatMap((p) => Array<number>(width).fill(p!.scale));
      const zeroPoint = names.length === 1 ? [ps[0]!.zeroPoint] : ps.flatMap((p) => Array<number>(width).fill(p!.zeroPoint));
      return fakeQuant(x, { scale, zeroPoint, qmin: -128, qmax: 127 });
    };
    const dense = (x: tf.Tensor2D, w: string, b: string): tf.Tensor2D =>
      tf.matMul(x, tf.transpose(this.effective(w, quant.weights) as tf.Tensor2D)).add(this.vars[b]) as tf.Tensor2D;

    let x = act(features.reshape([B * T, nBins]), ['features']) as tf.Tensor2D;
    x = act(tf.relu(this.fcIn(x, quant.weights)), ['fc_in']) as tf.Tensor2D;
    const stateOut: tf.Tensor2D[] = [];
    const gates = cellGates(this.arch);
    const lstm = this.arch.cell === 'lstm';
    const perLayer = lstm ? 2 : 1;
    for (let l = 0; l < this.arch.layers; l++) {
      const p = layerPrefix(this.arch, l);
      const cat = (kind: 'w_x' | 'w_h' | 'b_x' | 'b_h') => tf.concat(gates.map((g) => (kind.startsWith('w') ? this.effective(p + kind + g, quant.weights) : this.vars[p + kind + g])), 0);
      const wxT = tf.transpose(cat('w_x')) as tf.Tensor2D; // [in, G·H]
      const whT = tf.transpose(cat('w_h')) as tf.Tensor2D; // [H, G·H]
      const bx = cat('b_x');
      const bh = cat('b_h');
      const G = gates.length;
      const xp = act(tf.matMul(x, wxT).add(bx), gates.map((g) => `${p}x${g}`)).reshape([B, T, G * H]);
      const xs = tf.unstack(xp, 1) as tf.Tensor2D[];
      let h: tf.Tensor2D = opts.state?.[perLayer * l] ?? tf.zeros([B, H]);
      h = act(h, [p + 'h']) as tf.Tensor2D;
      let c: tf.Tensor2D | undefined;
      if (lstm) c = act(opts.state?.[perLayer * l + 1] ?? tf.zeros([B, H]), [p + 'c']) as tf.Tensor2D;
      const hs: tf.Tensor2D[] = [];
      for (let t = 0; t < T; t++) {
        const hp = act(tf.matMul(h, whT).add(bh), gates.map((g) => `${p}h${g}`));
        if (lstm) {
          const pre = act(xs[t].add(hp), gates.map((g) => `${p}${g}_pre`));
          const [ip, fp, gp, op] = tf.split(pre, 4, 1);
          const i = act(tf.sigmoid(ip), [p + 'i']);
          const f = act(tf.sigmoid(fp), [p + 'f']);
          const g = act(tf.tanh(gp), [p + 'g']);
          const o = act(tf.sigmoid(op), [p + 'o']);
          const cf = act(f.mul(c as tf.Tensor2D), [p + 'c_f']);
          const ig = act(i.mul(g), [p + 'i_g']);
          c = act(cf.add(ig), [p + 'c_next']) as tf.Tensor2D;
          const tc = act(tf.tanh(c), [p + 'tanh_c']);
          h = act(o.mul(tc), [p + 'h_next']) as tf.Tensor2D;
        } else {
          const [xzr, xn] = tf.split(xs[t], [2 * H, H], 1);
          const [hzr, hn] = tf.split(hp, [2 * H, H], 1);
          const zr = act(tf.sigmoid(act(xzr.add(hzr), [p + 'z_pre', p + 'r_pre'])), [p + 'z', p + 'r']);
          const [z, r] = tf.split(zr, 2, 1);
          const rhn = act(r.mul(hn), [p + 'rhn']);
          const n = act(tf.tanh(act(xn.add(rhn), [p + 'n_pre'])), [p + 'n']);
          const hmn = act(h.sub(n), [p + 'h_minus_n']);
          const zhmn = act(z.mul(hmn), [p + 'z_h_minus_n']);
          h = act(n.add(zhmn), [p + 'h_next']) as tf.Tensor2D;
        }
        hs.push(h);
      }
      stateOut.push(h);
      if (c) stateOut.push(c);
      x = tf.stack(hs, 1).reshape([B * T, H]) as tf.Tensor2D;
    }
    const maskPre = act(dense(x, 'fc_out.w', 'fc_out.b'), ['mask_pre']);
    const mask = act(tf.sigmoid(maskPre), ['mask']).reshape([B, T, nBins]) as tf.Tensor3D;
    return { mask, state: stateOut };
  }

  /** The model as the exporter takes it: normalisation folded into fc_in (recorded in `featureNorm`). */
  toFloatModel(seed: number, ranges: Record<string, [number, number]>, provenance: Record<string, unknown>): FloatModel {
    const weights = this.norm ? foldFeatureNorm(this.readWeights(), this.norm) : this.readWeights();
    const model: FloatModel = { format: 'hil-float-model', version: 1, arch: this.arch.name, hop: this.hop, sampleRate: 16000, seed, weights, ranges, provenance };
    if (this.norm) model.featureNorm = featureNormToJson(this.norm);
    return model;
  }
}

/**
 * Accumulates per-name min/max of the columns of x (names split the last axis evenly) into `rec`.
 * Per-frame tensors are reduced right away so recording keeps no extra frames alive.
 */
function recordColumns(rec: RecordedRanges, x: tf.Tensor, names: string[]): void {
  const flat = x.reshape([-1, x.shape[x.shape.length - 1]]);
  const parts = names.length === 1 ? [flat] : tf.split(flat, names.length, 1);
  names.forEach((name, i) => {
    const mn = tf.min(parts[i]);
    const mx = tf.max(parts[i]);
    const prev = rec.get(name);
    if (!prev) rec.set(name, { min: tf.keep(mn), max: tf.keep(mx) });
    else {
      rec.set(name, { min: tf.keep(tf.minimum(prev.min, mn)), max: tf.keep(tf.maximum(prev.max, mx)) });
      prev.min.dispose();
      prev.max.dispose();
    }
  });
}

/** Reads recorded ranges into plain numbers and frees their tensors. */
export function readRecorded(rec: RecordedRanges): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const [name, { min, max }] of rec) {
    out[name] = [min.dataSync()[0], max.dataSync()[0]];
    min.dispose();
    max.dispose();
  }
  rec.clear();
  return out;
}

/**
 * fc_in acting on normalised features → the same function on raw features:
 * `W'[o][k] = W[o][k]/std_k`, `b'[o] = b[o] − Σ_k W[o][k]·mean_k/std_k` (float64 sums). Other weights are shared.
 */
export function foldFeatureNorm(weights: Record<string, Tensor>, norm: FeatureNorm): Record<string, Tensor> {
  const w = weights['fc_in.w'];
  const b = weights['fc_in.b'];
  const [rows, cols] = w.shape;
  const fw = new Float32Array(w.data.length);
  const fb = new Float32Array(rows);
  for (let o = 0; o < rows; o++) {
    let s = b.data[o];
    for (let k = 0; k < cols; k++) {
      const v = w.data[o * cols + k] / norm.std[k];
      fw[o * cols + k] = v;
      s -= v * norm.mean[k];
    }
    fb[o] = s;
  }
  return { ...weights, 'fc_in.w': { shape: [rows, cols], data: fw }, 'fc_in.b': { shape: [rows], data: fb } };
}

/** The inverse of foldFeatureNorm (for fine-tuning a folded model on normalised features): exact up to float32 rounding. */
export function unfoldFeatureNorm(weights: Record<string, Tensor>, norm: FeatureNorm): Record<string, Tensor> {
  const w = weights['fc_in.w'];
  const b = weights['fc_in.b'];
  const [rows, cols] = w.shape;
  const uw = new Float32Array(w.data.length);
  const ub = new Float32Array(rows);
  for (let o = 0; o < rows; o++) {
    let s = b.data[o];
    for (let k = 0; k < cols; k++) {
      uw[o * cols + k] = w.data[o * cols + k] * norm.std[k];
      s += w.data[o * cols + k] * norm.mean[k];
    }
    ub[o] = s;
  }
  return { ...weights, 'fc_in.w': { shape: [rows, cols], data: uw }, 'fc_in.b': { shape: [rows], data: ub } };
}

export function featureNormToJson(n: FeatureNorm): FeatureNormJson {
  return { mean: Array.from(n.mean), std: Array.from(n.std) };
}

export function featureNormFromJson(j: FeatureNormJson): FeatureNorm {
  return { mean: Float32Array.from(j.mean), std: Float32Array.from(j.std) };
}
