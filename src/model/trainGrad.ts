/**
 * The gradient half of a training step, shared by the main thread and the data-parallel workers
 * (trainWorkers.ts): the loss of a batch and its gradients by weight name, and the activation ranges the
 * forward recorded when asked to.
 */
import type { Batch } from './dataset.js';
import { batchLoss, type LossKind } from './losses.js';
import { tf } from './tfBackend.js';
import { readRecorded, type QuantMode, type RecordedRanges, type SeNet } from './tfModel.js';

export interface StepGradients {
  /** The batch's loss before the update. */
  value: number;
  /** d loss / d weight, by weight name (the caller disposes them). */
  grads: Record<string, tf.Tensor>;
  /** Per-activation [min, max] over the batch, when recording was asked for. */
  ranges?: Record<string, [number, number]>;
}

export function stepGradients(net: SeNet, batch: Batch, mode: QuantMode, record: boolean, loss: LossKind): StepGradients {
  const shape: [number, number, number] = [batch.batch, batch.frames, net.arch.nBins];
  const rec: RecordedRanges | undefined = record ? new Map() : undefined;
  const { value, grads } = tf.variableGrads(() => {
    const feats = tf.tensor3d(batch.features, shape);
    const { mask } = net.forward(feats, { quant: mode, record: rec });
    return batchLoss(loss, mask, batch, net.hop);
  }, Object.values(net.vars));
  const lossValue = value.dataSync()[0];
  value.dispose();
  const byName: Record<string, tf.Tensor> = {};
  for (const [name, v] of Object.entries(net.vars)) byName[name] = grads[v.name];
  return { value: lossValue, grads: byName, ...(rec ? { ranges: readRecorded(rec) } : {}) };
}
