/**
 * Pruning masks for the three learned structures, computed from the current weights and the previous
 * mask. Every function here is pure and deterministic (ties broken by index), and never revives a pruned
 * weight: groups pruned before are pruned first, whatever their score, so the pruned set only grows.
 *
 * - weight: per matrix, the smallest |w|.
 * - block: per matrix, br×bc tiles on the blob's grid (docs/model-format.md §6: block rows and columns from
 *   0, edge tiles cut short, as the encoder pads them with zeros), scored by the L2 norm of the tile, i.e.
 *   the tile with its padding zeros. An edge tile costs the kernel a full br×bc of MACs whatever its size,
 *   so ranking all tiles by their padded norm ranks them by what each saves per unit of damage.
 * - unit: whole units (docs/model-format.md §9): a GRU or LSTM unit is its row in every gate's W_x and
 *   W_h and biases (3 gates, or the LSTM's 4), plus its column in every W_h and in the next layer's
 *   matrices; an fc_in unit is its row and bias plus its column in the first recurrent layer's W_x. Units are scored by the L2 norm of all the weights they own, rows and
 *   columns together: the group that removing the unit zeroes, as in the group-lasso "intrinsic sparse
 *   structures" of Wen et al. (2018) for LSTMs. Magnitude over the whole group, not only the rows, because a
 *   unit with large inputs but near-zero outgoing weights changes nothing downstream, and one with tiny
 *   inputs and large outgoing weights still feeds a (bias-driven) signal the next layer uses.
 */
import { cellGates, layerPrefix, type Arch } from '../model/arch.js';

/**
 * Order in which groups are pruned: those pruned before (by index), then the rest by ascending score
 * (ties by index).
 */
export function pruneOrder(scores: Float64Array, prunedBefore: Uint8Array): Uint32Array {
  const idx = Uint32Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => {
    const pa = prunedBefore[a], pb = prunedBefore[b];
    if (pa !== pb) return pb - pa;
    if (pa) return a - b;
    return scores[a] - scores[b] || a - b;
  });
}

/** Unstructured magnitude pruning of one matrix to `sparsity` (round(s·N) weights). */
export function weightMask(w: Float32Array, prev: Float32Array | undefined, sparsity: number): Float32Array {
  const n = w.length;
  const scores = Float64Array.from(w, Math.abs);
  const before = new Uint8Array(n);
  let nBefore = 0;
  if (prev) {
    for (let i = 0; i < n; i++) {
      if (prev[i] === 0) {
        before[i] = 1;
        nBefore++;
      }
    }
  }
  const k = Math.max(nBefore, Math.min(n, Math.round(sparsity * n)));
  const mask = new Float32Array(n).fill(1);
  const order = pruneOrder(scores, before);
  for (let i = 0; i < k; i++) mask[order[i]] = 0;
  return mask;
}

export interface BlockGrid {
  rows: number;
  cols: number;
  br: number;
  bc: number;
  nbr: number;
  nbc: number;
}

export function blockGrid(rows: number, cols: number, br: number, bc: number): BlockGrid {
  return { rows, cols, br, bc, nbr: Math.ceil(rows / br), nbc: Math.ceil(cols / bc) };
}

/** Calls fn(index) for every matrix element of block `b` (row-major block order). */
export function forBlock(g: BlockGrid, b: number, fn: (i: number) => void): void {
  const r0 = Math.floor(b / g.nbc) * g.br;
  const c0 = (b % g.nbc) * g.bc;
  for (let r = r0; r < Math.min(g.rows, r0 + g.br); r++) for (let c = c0; c < Math.min(g.cols, c0 + g.bc); c++) fn(r * g.cols + c);
}

/**
 * Block pruning of one [rows][cols] matrix: the fewest lowest-norm tiles that zero at least round(s·N)
 * weights, so the achieved weight sparsity is the target rounded up to whole tiles.
 */
export function blockMask(w: Float32Array, rows: number, cols: number, br: number, bc: number, prev: Float32Array | undefined, sparsity: number): Float32Array {
  const g = blockGrid(rows, cols, br, bc);
  const nb = g.nbr * g.nbc;
  const scores = new Float64Array(nb);
  const sizes = new Uint32Array(nb);
  const before = new Uint8Array(nb);
  for (let b = 0; b < nb; b++) {
    let ss = 0;
    let zeroMask = true;
    forBlock(g, b, (i) => {
      ss += w[i] * w[i];
      sizes[b]++;
      if (prev?.[i] !== 0) zeroMask = false;
    });
    scores[b] = Math.sqrt(ss);
    before[b] = prev && zeroMask ? 1 : 0;
  }
  const target = Math.min(w.length, Math.round(sparsity * w.length));
  const mask = new Float32Array(w.length).fill(1);
  let zeroed = 0;
  for (const b of pruneOrder(scores, before)) {
    if (zeroed >= target && !before[b]) break;
    forBlock(g, b, (i) => (mask[i] = 0));
    zeroed += sizes[b];
  }
  return mask;
}

/** A layer whose units can be removed, and the tensors each unit owns. */
export interface UnitLayer {
  name: string;
  units: number;
  /** Matrices whose rows are this layer's units. */
  rows: string[];
  /** Bias vectors indexed by this layer's units. */
  biases: string[];
  /** Matrices whose columns are this layer's units (its readers, including its own recurrent matrices). */
  cols: string[];
  /** Row matrices that are also column matrices (W_h): element (j, j) belongs to unit j once. */
  recurrent: string[];
}

/** fc_in and every recurrent layer of the architecture, with the shapes of the full (unshrunken) network. */
export function unitLayers(arch: Arch, dims: { d0: number; hidden: number[] } = { d0: arch.d0, hidden: Array(arch.layers).fill(arch.hidden) }): UnitLayer[] {
  const gates = cellGates(arch);
  const out: UnitLayer[] = [{ name: 'fc_in', units: dims.d0, rows: ['fc_in.w'], biases: ['fc_in.b'], cols: gates.map((g) => `${layerPrefix(arch, 0)}w_x${g}`), recurrent: [] }];
  for (let l = 0; l < arch.layers; l++) {
    const p = layerPrefix(arch, l);
    const next = l + 1 < arch.layers ? gates.map((g) => `${layerPrefix(arch, l + 1)}w_x${g}`) : ['fc_out.w'];
    out.push({
      name: p.slice(0, -1),
      units: dims.hidden[l],
      rows: gates.flatMap((g) => [`${p}w_x${g}`, `${p}w_h${g}`]),
      biases: gates.flatMap((g) => [`${p}b_x${g}`, `${p}b_h${g}`]),
      cols: [...gates.map((g) => `${p}w_h${g}`), ...next],
      recurrent: gates.map((g) => `${p}w_h${g}`),
    });
  }
  return out;
}

export interface WeightSource {
  shape(name: string): number[];
  weights(name: string): Float32Array;
  mask(name: string): Float32Array | undefined;
}

/** Squared L2 norm of every unit's group (rows and columns, W_h's diagonal counted once). */
export function unitScores(layer: UnitLayer, src: WeightSource): Float64Array {
  const ss = new Float64Array(layer.units);
  for (const name of layer.rows) {
    const [, cols] = src.shape(name);
    const w = src.weights(name);
    for (let j = 0; j < layer.units; j++) for (let c = 0; c < cols; c++) ss[j] += w[j * cols + c] ** 2;
  }
  for (const name of layer.cols) {
    const [rows, cols] = src.shape(name);
    const w = src.weights(name);
    const diag = layer.recurrent.includes(name);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) if (!(diag && r === j)) ss[j] += w[r * cols + j] ** 2;
  }
  return ss.map(Math.sqrt);
}

/** Units of the layer whose rows the current masks have zeroed (pruned by an earlier update). */
export function prunedUnits(layer: UnitLayer, src: WeightSource): Uint8Array {
  const out = new Uint8Array(layer.units);
  const m = src.mask(layer.rows[0]);
  if (!m) return out;
  const cols = src.shape(layer.rows[0])[1];
  for (let j = 0; j < layer.units; j++) {
    let all = true;
    for (let c = 0; c < cols && all; c++) if (m[j * cols + c] !== 0) all = false;
    out[j] = all ? 1 : 0;
  }
  return out;
}

/**
 * Masks for removing round(s·units) units of each given layer (at least one unit stays): rows, biases and
 * reader columns of removed units are 0. Biases are masked too, so that a removed unit's output is exactly
 * what the shrunken network computes without it (0 for fc_in's ReLU; a GRU unit with zero weights and
 * biases has h = 0, and so has an LSTM unit: g = tanh(0) = 0 keeps c at 0, so h = o·tanh(0) = 0) and the observed activation ranges are those of the surviving units.
 */
export function unitMasks(layers: UnitLayer[], src: WeightSource, sparsity: number): Map<string, Float32Array> {
  const removed = new Map<string, Uint8Array>();
  for (const layer of layers) {
    const before = prunedUnits(layer, src);
    const nBefore = before.reduce((a, b) => a + b, 0);
    const k = Math.min(layer.units - 1, Math.max(nBefore, Math.round(sparsity * layer.units)));
    const order = pruneOrder(unitScores(layer, src), before);
    const r = new Uint8Array(layer.units);
    for (let i = 0; i < k; i++) r[order[i]] = 1;
    removed.set(layer.name, r);
  }
  const masks = new Map<string, Float32Array>();
  const get = (name: string) => {
    let m = masks.get(name);
    if (!m) {
      m = new Float32Array(src.shape(name).reduce((a, b) => a * b, 1)).fill(1);
      masks.set(name, m);
    }
    return m;
  };
  for (const layer of layers) {
    const r = removed.get(layer.name)!;
    for (const name of layer.rows) {
      const [, cols] = src.shape(name);
      const m = get(name);
      for (let j = 0; j < layer.units; j++) if (r[j]) m.fill(0, j * cols, (j + 1) * cols);
    }
    for (const name of layer.biases) {
      const m = get(name);
      for (let j = 0; j < layer.units; j++) if (r[j]) m[j] = 0;
    }
    for (const name of layer.cols) {
      const [rows, cols] = src.shape(name);
      const m = get(name);
      for (let j = 0; j < layer.units; j++) if (r[j]) for (let row = 0; row < rows; row++) m[row * cols + j] = 0;
    }
  }
  return masks;
}
