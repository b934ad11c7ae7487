/**
 * The modelled-latency formula of docs/cost-model.md, integer for integer the same as
 * firmware/core/cost_model.c. Figures it produces are `modelled`, never measured.
 */
import type { ConfigRequest } from '../spec/protocol.js';

/** The parameters, as CONFIG carries them to a device (docs/spec/protocol.json). */
export type CostParams = ConfigRequest;

/**
 * Nominal Ethos-U55-128 figures (docs/cost-model.md): weights streamed from SRAM at one 64-bit AXI beat
 * per cycle. Kept as the formula's reference point (the engine vectors use it); no board defaults to it.
 */
export const ETHOS_U55_128: Readonly<CostParams> = Object.freeze({
  macsPerCycle: 128,
  weightBytesPerCycle: 8,
  elementsPerCycle: 8,
  opOverheadCycles: 200,
  frontendCycles: 0,
});

/**
 * Calibrated against RNNoise on the Corstone-300 FVP (docs/cost-model.md "Calibration"): the weights sit
 * in flash, which Vela's Ethos_U55_High_End_Embedded system config reads at 0.125 of the 500 MHz clock
 * over the 64-bit AXI1 port, i.e. 1 byte per cycle. Nothing is fitted; `npm run bench:cost-model` checks it.
 */
export const ETHOS_U55_128_CALIBRATED: Readonly<CostParams> = Object.freeze({ ...ETHOS_U55_128, weightBytesPerCycle: 1 });

export const ETHOS_U55_CLOCK_HZ = 500_000_000;

/** The work one op did in a frame (docs/model-format.md §8). */
export interface OpWork {
  isFc: boolean;
  macs: number;
  weightBytes: number;
  elements: number;
}

const UINT32_MAX = 0xffffffff;

function ceilDiv(a: number, b: number): number {
  // A zero rate is a configuration error; the firmware makes its term 0 rather than divide by zero.
  return b === 0 ? 0 : Math.floor((a + b - 1) / b);
}

export function opCycles(p: CostParams, w: OpWork): number {
  if (w.isFc) return Math.max(ceilDiv(w.macs, p.macsPerCycle), ceilDiv(w.weightBytes, p.weightBytesPerCycle)) + p.opOverheadCycles;
  return ceilDiv(w.elements, p.elementsPerCycle) + p.opOverheadCycles;
}

/** frontend_cycles + Σ op cycles, saturated to uint32. */
export function frameCycles(p: CostParams, ops: readonly OpWork[]): number {
  let total = p.frontendCycles;
  for (const w of ops) total += opCycles(p, w);
  return Math.min(total, UINT32_MAX);
}

export function cyclesToSeconds(cycles: number, clockHz: number): number {
  return cycles / clockHz;
}
