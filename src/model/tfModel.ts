/**
 * The streaming SE network in TensorFlow.js, for training. The math is the firmware's frame by frame
 * (docs/model-format.md §9): FC(257→d0)+ReLU, GRU layers in PyTorch's gate convention, FC(h→257)+sigmoid;
 * the recurrent cell is written out so that every weight matrix can be masked (pruning) and fake-quantised
 * (QAT) and every canonical activation tensor can be observed and fake-quantised. Sequences run with an
 * explicit state (zero at the start, as after STREAM_RESET), so a sequence split into chunks gives the
 * same result as one call.
 *
 * Per GRU layer the three gates' matrices are concatenated along the output axis for one matmul per
 * input and per frame; per-channel weight quantization and per-gate activation quantization are
 * unaffected (each row is its own channel; each gate's columns get their own scale).
 */
import seedrandom from 'seedrandom';
import { ARCHS, GATES, weightNames, type Arch, type ArchName } from './arch.js';
import type { FloatModel, Tensor } from './floatModel.js';
import { fakeQuant, roundHalfAway } from './tfFakeQuant.js';
import type { QuantParams } from './qat.js';
import { tf } from './tfBackend.js';

/** How a forward pass quantizes: weights per-channel int8 or not, activations by name or not. */
export interface QuantMode {
  weights: boolean;
  /** Params for an activation name, or undefined to leave it float (not observed yet, or float training). */
  act(name: string): QuantParams | undefined;
}

export const FLOAT_MODE: QuantMode = { weights: false, act: () => undefined };

/** Per-tensor min/max of the named activations of one forward pass (as tensors, kept outside tidy). */
export type RecordedRanges = Map<string, { min: tf.Tensor; max: tf.Tensor }>;

export interface ForwardOptions {
  quant?: QuantMode;
  /** GRU state per layer [B, H] from a previous chunk; zeros when absent. */
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
  const l = Number(layer.slice(3));
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
    const fanIn = name.startsWith('fc_in') ? arch.nBins : name.startsWith('fc_out') ? arch.hidden : name.includes('_x') && name.startsWith('gru0') ? arch.d0 : arch.hidden;
    let bound = 1 / Math.sqrt(fanIn);
    if (name === 'fc_in.w') bound /= 16;
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (2 * rng() - 1) * bound;
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

  constructor(
    archName: ArchName,
    readonly hop: 128 | 256,
    weights: Record<string, Tensor>,
  ) {
    this.arch = ARCHS[archName];
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
    x = act(tf.relu(dense(x, 'fc_in.w', 'fc_in.b')), ['fc_in']) as tf.Tensor2D;
    const stateOut: tf.Tensor2D[] = [];
    for (let l = 0; l < this.arch.gruLayers; l++) {
      const p = `gru${l}.`;
      const cat = (kind: 'w_x' | 'w_h' | 'b_x' | 'b_h') => tf.concat(GATES.map((g) => (kind.startsWith('w') ? this.effective(p + kind + g, quant.weights) : this.vars[p + kind + g])), 0);
      const wxT = tf.transpose(cat('w_x')) as tf.Tensor2D; // [in, 3H]
      const whT = tf.transpose(cat('w_h')) as tf.Tensor2D; // [H, 3H]
      const bx = cat('b_x');
      const bh = cat('b_h');
      const xp = act(tf.matMul(x, wxT).add(bx), [p + 'xz', p + 'xr', p + 'xn']).reshape([B, T, 3 * H]);
      const xs = tf.unstack(xp, 1) as tf.Tensor2D[];
      let h: tf.Tensor2D = opts.state?.[l] ?? tf.zeros([B, H]);
      h = act(h, [p + 'h']) as tf.Tensor2D;
      const hs: tf.Tensor2D[] = [];
      for (let t = 0; t < T; t++) {
        const hp = act(tf.matMul(h, whT).add(bh), [p + 'hz', p + 'hr', p + 'hn']);
        const [xzr, xn] = tf.split(xs[t], [2 * H, H], 1);
        const [hzr, hn] = tf.split(hp, [2 * H, H], 1);
        const zr = act(tf.sigmoid(act(xzr.add(hzr), [p + 'z_pre', p + 'r_pre'])), [p + 'z', p + 'r']);
        const [z, r] = tf.split(zr, 2, 1);
        const rhn = act(r.mul(hn), [p + 'rhn']);
        const n = act(tf.tanh(act(xn.add(rhn), [p + 'n_pre'])), [p + 'n']);
        const hmn = act(h.sub(n), [p + 'h_minus_n']);
        const zhmn = act(z.mul(hmn), [p + 'z_h_minus_n']);
        h = act(n.add(zhmn), [p + 'h_next']) as tf.Tensor2D;
        hs.push(h);
      }
      stateOut.push(h);
      x = tf.stack(hs, 1).reshape([B * T, H]) as tf.Tensor2D;
    }
    const maskPre = act(dense(x, 'fc_out.w', 'fc_out.b'), ['mask_pre']);
    const mask = act(tf.sigmoid(maskPre), ['mask']).reshape([B, T, nBins]) as tf.Tensor3D;
    return { mask, state: stateOut };
  }

  toFloatModel(seed: number, ranges: Record<string, [number, number]>, provenance: Record<string, unknown>): FloatModel {
    return { format: 'hil-float-model', version: 1, arch: this.arch.name, hop: this.hop, sampleRate: 16000, seed, weights: this.readWeights(), ranges, provenance };
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
