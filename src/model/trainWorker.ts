/**
 * A data-parallel training worker (started by trainWorkers.ts): a tfjs instance and a replica of the
 * network that, per step, takes the main thread's weights and its part of the batch and returns the
 * gradients (and, when asked, the recorded activation ranges). It never updates weights itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RangeObserver } from './qat.js';
import { initTf, tf } from './tfBackend.js';
import { FLOAT_MODE, SeNet, type QuantMode } from './tfModel.js';
import { stepGradients } from './trainGrad.js';
import { ownBuffer, type WorkerInit, type WorkerReply, type WorkerStep } from './trainWorkers.js';

const port = parentPort;
if (!port) throw new Error('trainWorker.ts runs as a worker thread');
const send = (m: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const init = workerData as WorkerInit;
  const info = await initTf({ backend: init.backend, kernelFixes: init.kernelFixes });
  const net = new SeNet(init.arch, init.hop, init.weights, init.norm);
  port.on('message', (m: WorkerStep) => {
    try {
      for (const [name, mask] of Object.entries(m.masks)) net.setMask(name, mask ?? undefined);
      for (const [name, w] of Object.entries(m.weights)) {
        const t = tf.tensor(w, net.vars[name].shape);
        net.vars[name].assign(t);
        t.dispose();
      }
      const observer = new RangeObserver();
      Object.assign(observer.ranges, m.ranges);
      const mode: QuantMode = m.quantized ? { weights: true, act: (n) => observer.params(n) } : FLOAT_MODE;
      const { value, grads, ranges } = stepGradients(net, m.batch, mode, m.record, m.loss);
      const out: Record<string, Float32Array> = {};
      for (const [name, g] of Object.entries(grads)) out[name] = ownBuffer(g.dataSync() as Float32Array);
      tf.dispose(Object.values(grads));
      send({ type: 'grads', value, grads: out, ...(ranges ? { ranges } : {}) }, Object.values(out).map((a) => a.buffer as ArrayBuffer));
    } catch (e) {
      send({ type: 'error', message: (e as Error).message });
    }
  });
  send({ type: 'ready', backend: info.backend });
} catch (e) {
  send({ type: 'error', message: (e as Error).message });
}
