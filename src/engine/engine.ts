/**
 * The host engine: the streaming pipeline of docs/model-format.md §1 over a parsed blob, bit-exact with
 * firmware/core/engine.c. Buffers live in one arena laid out as §8 says (tensors get the same 16 bytes of
 * zeroed slack the block kernels may read), and nothing is allocated per frame.
 */
import { type BlobFc16Op, type BlobFcOp, type BlobOp, CSR4_ESCAPE_STEP, type ModelBlob, type OpCounters, parseBlob } from './blob.js';
import { type CostParams, opCycles } from './costModel.js';
import { fft, log2q } from './dsp.js';
import { lut16, mbqm, mbqm64 } from './primitives.js';

/** Work counters of one frame (docs/model-format.md §8), plus the cost model's figure when configured. */
export interface FrameCounters {
  macs: number;
  weightBytes: number;
  elements: number;
  ops: number;
  /** docs/cost-model.md; 0 when no cost parameters are set (as on the device). */
  modelledCycles: number;
}

export interface FrameResult {
  output: Int16Array;
  counters: FrameCounters;
}

/** A tensor's values: Int8Array for int8 tensors, Int16Array for int16 ones. */
export type TensorValues = Int8Array | Int16Array;

/** One step of the graph alone: the mask (int8, or int16 for a 16-bit output) and each new state, in state-tensor table order. */
export interface GraphStepResult {
  mask: TensorValues;
  states: Int8Array[];
}

function sat16(v: number): number {
  return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}

function clamp8(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export class Engine {
  readonly blob: ModelBlob;
  readonly arenaBytes: number;
  /** Per-op work, static for the blob: what the cost model consumes. */
  readonly opCounters: readonly (OpCounters & { op: BlobOp['op']; isFc: boolean })[];
  private readonly arena: ArrayBuffer;
  private readonly inbuf: Int16Array;
  private readonly ola: Int32Array;
  private readonly re: Int32Array;
  private readonly im: Int32Array;
  private readonly t: Int8Array[];
  /** Int16 views of the int16 tensors (null for int8 ones), over the same arena bytes as `t`. */
  private readonly t16: (Int16Array | null)[];
  private readonly dot = new Int32Array(16);
  private readonly totals: Omit<FrameCounters, 'modelledCycles'>;
  private cost: CostParams | null = null;
  private modelled = 0;

  constructor(blob: ModelBlob | Uint8Array) {
    this.blob = blob instanceof Uint8Array ? parseBlob(blob) : blob;
    const b = this.blob;
    this.arenaBytes = b.arena.bytes;
    this.arena = new ArrayBuffer(b.arena.bytes);
    this.inbuf = new Int16Array(this.arena, b.arena.inbuf, b.nFft);
    this.ola = new Int32Array(this.arena, b.arena.ola, b.nFft);
    this.re = new Int32Array(this.arena, b.arena.re, b.nFft);
    this.im = new Int32Array(this.arena, b.arena.im, b.nFft);
    // Each view spans the tensor plus its slack, so a block kernel's padded reads stay inside it.
    this.t = b.tensors.map((x) => new Int8Array(this.arena, x.arenaOffset, Math.ceil(x.length / 16) * 16 + 16));
    this.t16 = b.tensors.map((x) => (x.dtype === 'int16' ? new Int16Array(this.arena, x.arenaOffset, x.length) : null));
    this.opCounters = b.ops.map((o) => ({ op: o.op, isFc: o.op === 'FC' || o.op === 'FC16', ...o.counters }));
    let macs = 0, weightBytes = 0, elements = 0;
    for (const c of this.opCounters) {
      macs = (macs + c.macs) >>> 0;
      weightBytes = (weightBytes + c.weightBytes) >>> 0;
      elements = (elements + c.elements) >>> 0;
    }
    this.totals = { macs, weightBytes, elements, ops: b.ops.length & 0xffff };
    this.reset();
  }

  /** Cost-model parameters, as the CONFIG message sets them on a device. */
  setCost(params: CostParams | null): void {
    this.cost = params;
    this.modelled = 0;
    if (!params) return;
    let total = params.frontendCycles;
    for (const c of this.opCounters) total += opCycles(params, c);
    this.modelled = Math.min(total, 0xffffffff);
  }

  /** Zeroes the stream state (STREAM_RESET): input and overlap-add buffers, state tensors to their zero point. */
  reset(): void {
    this.inbuf.fill(0);
    this.ola.fill(0);
    for (const x of this.blob.tensors) if (x.isState) this.t[x.id].fill(x.zeroPoint, 0, x.length);
  }

  /** Ids of the state tensors, in table order (the order runGraph takes and returns states in). */
  get stateIds(): number[] {
    return this.blob.tensors.filter((x) => x.isState).map((x) => x.id);
  }

  /** A copy of a tensor's current value: after runFrame, the input tensor holds that frame's features. */
  readTensor(id: number): Int8Array {
    const x = this.blob.tensors[id];
    if (!x) throw new RangeError(`readTensor: no tensor ${id}`);
    if (x.dtype !== 'int8') throw new RangeError(`readTensor: tensor ${id} is ${x.dtype} (use readValues)`);
    return this.t[id].slice(0, x.length);
  }

  /** readTensor for a tensor of any dtype. */
  readValues(id: number): TensorValues {
    const x = this.blob.tensors[id];
    if (!x) throw new RangeError(`readValues: no tensor ${id}`);
    return this.t16[id]?.slice() ?? this.t[id].slice(0, x.length);
  }

  private writeTensor(id: number, v: TensorValues): void {
    const x = this.blob.tensors[id];
    if ((x.dtype === 'int16') !== v instanceof Int16Array) throw new RangeError(`tensor ${id} is ${x.dtype}`);
    (this.t16[id] ?? this.t[id]).set(v);
  }

  /**
   * The graph of docs/model-format.md §1 step 7 alone, as the .tflite step runs it: int8 features in (the
   * front end's input tensor), the states in (omitted: the stream's current ones), the mask and the new
   * states out. Like runFrame it leaves the new states in the state tensors; the PCM buffers are untouched.
   */
  runGraph(features: Int8Array, states?: readonly Int8Array[]): GraphStepResult {
    const b = this.blob;
    const ids = this.stateIds;
    if (features.length !== b.nBins) throw new RangeError(`runGraph: expected ${b.nBins} features, got ${features.length}`);
    if (states && states.length !== ids.length) throw new RangeError(`runGraph: expected ${ids.length} states, got ${states.length}`);
    this.t[b.inputId].set(features);
    if (states)
      ids.forEach((id, k) => {
        if (states[k].length !== b.tensors[id].length) throw new RangeError(`runGraph: state ${k} needs ${b.tensors[id].length} values, got ${states[k].length}`);
        this.t[id].set(states[k]);
      });
    this.stepGraph();
    return { mask: this.readValues(b.outputId), states: ids.map((id) => this.readTensor(id)) };
  }

  /**
   * One op alone on given input values (FC and LUT take one, ADD/SUB/MUL two, in the op's order) → its
   * output. For checking another runtime op by op on that runtime's own inputs. It writes the op's input
   * and output tensors, so use an engine that is not carrying a stream.
   */
  evalOp(index: number, inputs: readonly TensorValues[]): TensorValues {
    const op = this.blob.ops[index];
    if (!op) throw new RangeError(`evalOp: no op ${index}`);
    const ids = 'input' in op ? [op.input] : [op.in1, op.in2];
    if (inputs.length !== ids.length) throw new RangeError(`evalOp: op ${index} takes ${ids.length} inputs, got ${inputs.length}`);
    ids.forEach((id, k) => {
      if (inputs[k].length !== this.blob.tensors[id].length) throw new RangeError(`evalOp: op ${index} input ${k} needs ${this.blob.tensors[id].length} values, got ${inputs[k].length}`);
      this.writeTensor(id, inputs[k]);
    });
    this.runOp(op);
    return this.readValues(op.output);
  }

  /** One hop of PCM in, one hop out. Pass `out` to reuse a buffer. */
  runFrame(input: Int16Array, out: Int16Array = new Int16Array(this.blob.hop)): FrameResult {
    const b = this.blob;
    const n = b.nFft, hop = b.hop, nb = b.nBins;
    if (input.length !== hop) throw new RangeError(`runFrame: expected ${hop} samples, got ${input.length}`);
    const { inbuf, ola, re, im } = this;
    const winA = b.winA, winS = b.winS;

    inbuf.copyWithin(0, hop);
    inbuf.set(input, n - hop);
    for (let k = 0; k < n; k++) {
      re[k] = Math.floor((inbuf[k] * winA[k] + 16384) / 32768);
      im[k] = 0;
    }
    fft(re, im, false);

    const feat = this.t[b.inputId];
    const fzp = b.tensors[b.inputId].zeroPoint;
    for (let k = 0; k < nb; k++) {
      const p = re[k] * re[k] + im[k] * im[k];
      feat[k] = clamp8(fzp + mbqm(log2q(p + 1), b.featMult, b.featShift), -128, 127);
    }

    this.stepGraph();

    const mask16 = this.t16[b.outputId];
    if (mask16) {
      // A 16-bit mask is a Q15 gain (scale 1/32768, zero point 0).
      for (let k = 0; k < nb; k++) {
        const g = mask16[k];
        re[k] = Math.floor((re[k] * g + 16384) / 32768);
        im[k] = Math.floor((im[k] * g + 16384) / 32768);
      }
    } else {
      const mask = this.t[b.outputId];
      for (let k = 0; k < nb; k++) {
        const g = mask[k] + 128;
        re[k] = Math.floor((re[k] * g + 128) / 256);
        im[k] = Math.floor((im[k] * g + 128) / 256);
      }
    }
    for (let k = nb; k < n; k++) {
      re[k] = re[n - k];
      im[k] = -im[n - k];
    }
    fft(re, im, true);
    for (let k = 0; k < n; k++) ola[k] += Math.floor((re[k] * winS[k] + 16384) / 32768);
    for (let k = 0; k < hop; k++) {
      const v = ola[k];
      out[k] = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
    }
    ola.copyWithin(0, hop);
    ola.fill(0, n - hop);
    return { output: out, counters: { ...this.totals, modelledCycles: this.cost ? this.modelled : 0 } };
  }

  /** Every op in order, then each state tensor takes its `next` (§1 step 7). */
  private stepGraph(): void {
    const b = this.blob;
    for (const op of b.ops) this.runOp(op);
    for (const x of b.tensors) if (x.isState) this.t[x.id].set(this.t[x.next as number].subarray(0, x.length));
  }

  private runOp(op: BlobOp): void {
    const t = this.t;
    const tensors = this.blob.tensors;
    switch (op.op) {
      case 'FC':
        this.runFc(op);
        return;
      case 'FC16':
        this.runFc16(op);
        return;
      case 'QUANTIZE': {
        const x = t[op.input], y = this.t16[op.output] as Int16Array, zp = tensors[op.input].zeroPoint;
        for (let i = 0, len = y.length; i < len; i++) y[i] = sat16(mbqm(x[i] - zp, op.m, op.shift));
        return;
      }
      case 'LUT16': {
        const x = this.t16[op.input] as Int16Array, y = this.t16[op.output] as Int16Array;
        for (let i = 0, len = y.length; i < len; i++) y[i] = lut16(op.table, x[i]);
        return;
      }
      case 'LUT': {
        const x = t[op.input], y = t[op.output], table = op.table;
        for (let i = 0, len = tensors[op.output].length; i < len; i++) y[i] = table[x[i] + 128];
        return;
      }
      case 'MUL': {
        const x1 = t[op.in1], x2 = t[op.in2], y = t[op.output];
        const zp1 = tensors[op.in1].zeroPoint, zp2 = tensors[op.in2].zeroPoint, zpo = tensors[op.output].zeroPoint;
        for (let i = 0, len = tensors[op.output].length; i < len; i++)
          y[i] = clamp8(zpo + mbqm((x1[i] - zp1) * (x2[i] - zp2), op.mo, op.sho), op.actMin, op.actMax);
        return;
      }
      default: {
        const x1 = t[op.in1], x2 = t[op.in2], y = t[op.output];
        const zp1 = tensors[op.in1].zeroPoint, zp2 = tensors[op.in2].zeroPoint, zpo = tensors[op.output].zeroPoint;
        const scale = 2 ** op.leftShift;
        const sub = op.op === 'SUB';
        for (let i = 0, len = tensors[op.output].length; i < len; i++) {
          const sa = mbqm((x1[i] - zp1) * scale, op.m1, op.sh1);
          const sb = mbqm((x2[i] - zp2) * scale, op.m2, op.sh2);
          const s = sub ? (sa - sb) | 0 : (sa + sb) | 0;
          y[i] = clamp8(zpo + mbqm(s, op.mo, op.sho), op.actMin, op.actMax);
        }
      }
    }
  }

  private runFc16(op: BlobFc16Op): void {
    const x = this.t16[op.input] as Int16Array, y = this.t16[op.output] as Int16Array;
    const inF = op.inFeatures, w = op.w;
    for (let o = 0, base = 0; o < op.outFeatures; o++, base += inF) {
      let dot = 0; // |dot| < 2^38: exact
      for (let i = 0; i < inF; i++) dot += w[base + i] * x[i];
      const c = op.perChannel ? o : 0;
      const v = mbqm64(Number(op.bias[o]) + dot, op.mult[c], op.shift[c]);
      y[o] = v < op.actMin ? op.actMin : v > op.actMax ? op.actMax : v;
    }
  }

  private runFc(op: BlobFcOp): void {
    const x = this.t[op.input];
    const y = this.t[op.output];
    const inF = op.inFeatures, outF = op.outFeatures;
    const bias = op.biasEff, mult = op.mult, shift = op.shift, pc = op.perChannel;
    const zp = this.blob.tensors[op.output].zeroPoint, lo = op.actMin, hi = op.actMax;
    const requant = (o: number, dot: number) => {
      const c = pc ? o : 0;
      return clamp8(zp + mbqm((bias[o] + dot) | 0, mult[c], shift[c]), lo, hi);
    };
    const w = op.weights;
    if (w.encoding === 'dense') {
      const wt = w.w;
      const in4 = inF & ~3;
      for (let o = 0, base = 0; o < outF; o++, base += inF) {
        let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        let i = 0;
        for (; i < in4; i += 4) {
          d0 += wt[base + i] * x[i];
          d1 += wt[base + i + 1] * x[i + 1];
          d2 += wt[base + i + 2] * x[i + 2];
          d3 += wt[base + i + 3] * x[i + 3];
        }
        for (; i < inF; i++) d0 += wt[base + i] * x[i];
        y[o] = requant(o, d0 + d1 + d2 + d3);
      }
    } else if (w.encoding === 'block') {
      const { br, bc, rowPtr, colIdx, blocks } = w;
      const nbr = Math.ceil(outF / br);
      const dot = this.dot;
      for (let rb = 0; rb < nbr; rb++) {
        dot.fill(0, 0, br);
        for (let k = rowPtr[rb]; k < rowPtr[rb + 1]; k++) {
          const blk = k * br * bc;
          const xc = colIdx[k] * bc;
          for (let r = 0; r < br; r++) {
            let s = 0;
            for (let c = 0; c < bc; c++) s += blocks[blk + r * bc + c] * x[xc + c];
            dot[r] += s;
          }
        }
        for (let r = 0; r < br; r++) {
          const o = rb * br + r;
          if (o < outF) y[o] = requant(o, dot[r]);
        }
      }
    } else if (w.encoding === 'csr4') {
      const { rowCodes, codes, values } = w;
      let at = 0, k = 0;
      for (let o = 0; o < outF; o++) {
        const n = rowCodes[o];
        let col = -1, dot = 0;
        for (let e = 0; e < n; e++) {
          const code = (codes[at + (e >> 1)] >> (4 * (e & 1))) & 15;
          if (code === 0) col += CSR4_ESCAPE_STEP;
          else {
            col += code;
            dot += values[k++] * x[col];
          }
        }
        at += (n + 1) >> 1;
        y[o] = requant(o, dot);
      }
    } else {
      const { rowNnz, delta, values } = w;
      let k = 0;
      for (let o = 0; o < outF; o++) {
        const end = k + rowNnz[o];
        let col = 0, dot = 0;
        for (; k < end; k++) {
          col += delta[k];
          dot += values[k] * x[col];
        }
        y[o] = requant(o, dot);
      }
    }
  }
}
