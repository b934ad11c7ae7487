/**
 * The streaming SE networks hil knows (docs/model-format.md §9), and the canonical names of their weights
 * and activation tensors. Training, float inference, lowering to the int8 graph, the blob and the .tflite
 * all use these names, so a range observed in training lands on the right tensor at export.
 *
 * Every network is FC(257 → d0) + ReLU, `layers` recurrent layers of one cell type, FC(h → 257) + sigmoid.
 * The cell is a GRU (PyTorch gates z, r, n; weights `gru{l}.*`) or an LSTM (PyTorch gates i, f, g, o;
 * weights `lstm{l}.*`). GRU names are those of every model made before LSTMs existed, so their digests,
 * blobs and test vectors are unchanged.
 */
export type ArchName = 'se-tiny' | 'se-small' | 'se-paper' | 'tinylstm-tiny' | 'tinylstm-paper';
export type CellType = 'gru' | 'lstm';

export interface Arch {
  name: ArchName;
  nFft: 512;
  nBins: 257;
  /** Width of the input FC (ReLU). */
  d0: number;
  cell: CellType;
  /** Number of recurrent layers. */
  layers: number;
  hidden: number;
}

export const ARCHS: Record<ArchName, Arch> = {
  'se-tiny': { name: 'se-tiny', nFft: 512, nBins: 257, d0: 32, cell: 'gru', layers: 1, hidden: 32 },
  'se-small': { name: 'se-small', nFft: 512, nBins: 257, d0: 128, cell: 'gru', layers: 2, hidden: 128 },
  'se-paper': { name: 'se-paper', nFft: 512, nBins: 257, d0: 256, cell: 'gru', layers: 2, hidden: 256 },
  // Two layers, so unit pruning across an LSTM → LSTM boundary is exercised by the tests.
  'tinylstm-tiny': { name: 'tinylstm-tiny', nFft: 512, nBins: 257, d0: 32, cell: 'lstm', layers: 2, hidden: 32 },
  // Widths are a guess, sized to the total issue 15 records for the reference (docs/model-format.md §9).
  'tinylstm-paper': { name: 'tinylstm-paper', nFft: 512, nBins: 257, d0: 224, cell: 'lstm', layers: 2, hidden: 224 },
};

/** GRU gates (PyTorch order). */
export const GATES = ['z', 'r', 'n'] as const;
/** LSTM gates (PyTorch order): input, forget, cell candidate, output. */
export const LSTM_GATES = ['i', 'f', 'g', 'o'] as const;

export function cellGates(arch: Arch): readonly string[] {
  return arch.cell === 'lstm' ? LSTM_GATES : GATES;
}

/** `gru0.`, `lstm1.`: the name prefix of recurrent layer l. */
export function layerPrefix(arch: Arch, l: number): string {
  return `${arch.cell}${l}.`;
}

/** Per-layer activation suffixes, in execution (and blob tensor table) order; the state tensors come last. */
const GRU_ACTS = ['xz', 'hz', 'z_pre', 'z', 'xr', 'hr', 'r_pre', 'r', 'xn', 'hn', 'rhn', 'n_pre', 'n', 'h_minus_n', 'z_h_minus_n', 'h_next', 'h'];
const LSTM_ACTS = [...LSTM_GATES.flatMap((g) => [`x${g}`, `h${g}`, `${g}_pre`, g]), 'c_f', 'i_g', 'c_next', 'tanh_c', 'h_next', 'c', 'h'];

export function cellActivations(cell: CellType): string[] {
  return cell === 'lstm' ? LSTM_ACTS : GRU_ACTS;
}

/**
 * Weight names: `fc_in.w` [d0 × 257], `{cell}{l}.w_x{g}` [H × in], `{cell}{l}.w_h{g}` [H × H], `fc_out.w`
 * [257 × H]; biases `fc_in.b`, `{cell}{l}.b_x{g}`, `{cell}{l}.b_h{g}`, `fc_out.b`. Matrices are row-major
 * [out][in]. LSTMs keep PyTorch's two biases per gate too (b_ih, b_hh): redundant in function, but every
 * per-gate FC then has its own bias as in the GRU, and a PyTorch state dict maps one to one.
 */
export function weightNames(arch: Arch): string[] {
  const names = ['fc_in.w', 'fc_in.b'];
  for (let l = 0; l < arch.layers; l++) {
    const p = layerPrefix(arch, l);
    for (const g of cellGates(arch)) names.push(`${p}w_x${g}`, `${p}b_x${g}`, `${p}w_h${g}`, `${p}b_h${g}`);
  }
  names.push('fc_out.w', 'fc_out.b');
  return names;
}

/**
 * Activation tensor names, in execution order. Ranges are observed (float) for the ones whose
 * quantization is learned; logistic outputs (GRU `z`, `r`; LSTM `i`, `f`, `o`; `mask`: scale 1/256,
 * zp −128) and tanh-range ones (GRU `n`; LSTM `g`, `tanh_c`; both cells' `h` and `h_next`: scale 1/128,
 * zp 0) have fixed quantization. The LSTM cell state `c` takes the quantization of `c_next` (a state
 * tensor and its next share it: the frame's update is a byte copy).
 */
export function activationNames(arch: Arch): string[] {
  const names = ['features', 'fc_in'];
  for (let l = 0; l < arch.layers; l++) {
    const p = layerPrefix(arch, l);
    names.push(...cellActivations(arch.cell).map((s) => p + s));
  }
  names.push('mask_pre', 'mask');
  return names;
}

/** The activation whose range quantizes `name`: an LSTM cell state `lstm{l}.c` uses its `c_next`'s. */
export function rangeSource(name: string): string {
  return /^lstm\d+\.c$/.test(name) ? `${name}_next` : name;
}

export function isArchName(name: string): name is ArchName {
  return Object.hasOwn(ARCHS, name);
}
