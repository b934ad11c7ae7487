/**
 * The network's real dimensions, read off its weights: unit pruning shrinks layers, so the architecture's
 * nominal sizes are not enough. Training (forward), compression (shrink) and export (lower) all read them
 * here, so that model code never reaches into export for them.
 */
import { HilError } from '../util/errors.js';
import { ARCHS, cellGates, layerPrefix } from './arch.js';
import type { FloatModel } from './floatModel.js';

/** Dimensions read off the weights (unit pruning shrinks them). */
export interface GraphDims {
  nBins: number;
  d0: number;
  hidden: number[];
}

function shapeOf(model: FloatModel, name: string): number[] {
  const t = model.weights[name];
  if (!t) throw new HilError(`float model has no weight ${name}`, 're-create it with hil model init or training');
  return t.shape;
}

export function graphDims(model: FloatModel): GraphDims {
  const arch = ARCHS[model.arch];
  const expect = (name: string, shape: number[]) => {
    const s = shapeOf(model, name);
    if (s.length !== shape.length || s.some((v, k) => v !== shape[k]))
      throw new HilError(`weight ${name} has shape [${s}], expected [${shape}]`, 'unit pruning must remove the same units from every gate and the matching columns downstream');
  };
  const [d0, nBins] = shapeOf(model, 'fc_in.w');
  if (nBins !== arch.nBins) throw new HilError(`fc_in.w has ${nBins} inputs, expected ${arch.nBins} frequency bins`);
  expect('fc_in.b', [d0]);
  const hidden: number[] = [];
  let inF = d0;
  const gates = cellGates(arch);
  for (let l = 0; l < arch.layers; l++) {
    const p = layerPrefix(arch, l);
    const h = shapeOf(model, `${p}w_h${gates[0]}`)[0];
    for (const g of gates) {
      expect(`${p}w_x${g}`, [h, inF]);
      expect(`${p}w_h${g}`, [h, h]);
      expect(`${p}b_x${g}`, [h]);
      expect(`${p}b_h${g}`, [h]);
    }
    hidden.push(h);
    inF = h;
  }
  expect('fc_out.w', [nBins, inF]);
  expect('fc_out.b', [nBins]);
  if (d0 < 1 || hidden.some((h) => h < 1)) throw new HilError('a layer has no units left', 'prune fewer units');
  return { nBins, d0, hidden };
}
