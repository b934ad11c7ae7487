/**
 * The streaming SE networks hil knows (docs/model-format.md §9), and the canonical names of their weights
 * and activation tensors. Training, float inference, lowering to the int8 graph, the blob and the .tflite
 * all use these names, so a range observed in training lands on the right tensor at export.
 */
export type ArchName = 'se-tiny' | 'se-small' | 'se-paper';

export interface Arch {
  name: ArchName;
  nFft: 512;
  nBins: 257;
  /** Width of the input FC (ReLU). */
  d0: number;
  gruLayers: number;
  hidden: number;
}

export const ARCHS: Record<ArchName, Arch> = {
  'se-tiny': { name: 'se-tiny', nFft: 512, nBins: 257, d0: 32, gruLayers: 1, hidden: 32 },
  'se-small': { name: 'se-small', nFft: 512, nBins: 257, d0: 128, gruLayers: 2, hidden: 128 },
  'se-paper': { name: 'se-paper', nFft: 512, nBins: 257, d0: 256, gruLayers: 2, hidden: 256 },
};

export const GATES = ['z', 'r', 'n'] as const;

/** Weight names: `fc_in.w` [d0 × 257], `gru{l}.w_x{g}` [H × in], `gru{l}.w_h{g}` [H × H], `fc_out.w` [257 × H];
 *  biases `fc_in.b`, `gru{l}.b_x{g}`, `gru{l}.b_h{g}`, `fc_out.b`. Matrices are row-major [out][in]. */
export function weightNames(arch: Arch): string[] {
  const names = ['fc_in.w', 'fc_in.b'];
  for (let l = 0; l < arch.gruLayers; l++) {
    for (const g of GATES) names.push(`gru${l}.w_x${g}`, `gru${l}.b_x${g}`, `gru${l}.w_h${g}`, `gru${l}.b_h${g}`);
  }
  names.push('fc_out.w', 'fc_out.b');
  return names;
}

/**
 * Activation tensor names, in execution order. Ranges are observed (float) for the ones whose
 * quantization is learned; `z`, `r` (logistic: scale 1/256, zp −128), `n` and `h` (tanh range: scale
 * 1/128, zp 0) and `mask` (logistic) have fixed quantization.
 */
export function activationNames(arch: Arch): string[] {
  const names = ['features', 'fc_in'];
  for (let l = 0; l < arch.gruLayers; l++) {
    const p = `gru${l}.`;
    names.push(
      ...['xz', 'hz', 'z_pre', 'z', 'xr', 'hr', 'r_pre', 'r', 'xn', 'hn', 'rhn', 'n_pre', 'n', 'h_minus_n', 'z_h_minus_n', 'h_next', 'h'].map(
        (s) => p + s,
      ),
    );
  }
  names.push('mask_pre', 'mask');
  return names;
}

export function isArchName(name: string): name is ArchName {
  return Object.hasOwn(ARCHS, name);
}
