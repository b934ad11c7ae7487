/**
 * Training speed on this machine: steps/s at batch 16 × 100 frames (hop 256) for each arch, float and
 * QAT steps, with and without hil's wasm kernel fixes (on tfjs-node there is nothing to fix, so one row),
 * with the training loss (`--loss`, default the one `hil train` uses).
 * Each row also gives the achieved GFLOP/s of a step (≈ 6 FLOPs per weight MAC per frame: 2 forward, 4
 * backward; the STFT features, losses and elementwise gate math are left out, so it is a lower bound) against
 * a plain matmul of the same backend on this machine, the ceiling a training step could approach.
 * With `--workers 1,2` the columns are data-parallel steps (`hil train --workers`, kernel fixes on) with each
 * worker count instead, and GFLOP/s per count (against one core's matmul: n workers can reach n × 100 %).
 * Usage: npm run bench:train [-- --arch se-small --steps 5 --backend wasm --loss mag --workers 1,2]
 */
import { parseArgs } from 'node:util';
import { ARCHS, isArchName, type ArchName } from '../src/model/arch.js';
import { initTf, setKernelFixes, tf, type BackendChoice } from '../src/model/tfBackend.js';
import { initWeights, SeNet, FLOAT_MODE, type QuantMode } from '../src/model/tfModel.js';
import { Adam } from '../src/model/trainAdam.js';
import { DEFAULT_LOSS, LOSS_KINDS, trainStep, type LossKind } from '../src/model/train.js';
import { checkWorkers, GradientWorkers } from '../src/model/trainWorkers.js';
import { loadavg } from 'node:os';
import { RangeObserver, observedActivationNames } from '../src/model/qat.js';
import type { Batch } from '../src/model/dataset.js';
import seedrandom from 'seedrandom';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', multiple: true },
    steps: { type: 'string' },
    backend: { type: 'string' },
    loss: { type: 'string' },
    batch: { type: 'string' },
    frames: { type: 'string' },
    workers: { type: 'string' },
  },
});
const archs = (values.arch ?? Object.keys(ARCHS)) as string[];
for (const a of archs) if (!isArchName(a)) throw new Error(`unknown arch ${a}`);
const steps = Number(values.steps ?? 4);
const B = Number(values.batch ?? 16);
const T = Number(values.frames ?? 100);
const loss = (values.loss ?? DEFAULT_LOSS) as LossKind;
if (!LOSS_KINDS.includes(loss)) throw new Error(`unknown loss ${loss}`);
const workerCounts = values.workers === undefined ? undefined : values.workers.split(',').map(Number);
for (const n of workerCounts ?? []) checkWorkers(n, B);

const info = await initTf({ backend: (values.backend ?? 'auto') as BackendChoice });
console.log(`backend ${info.backend}${info.simd ? ' (SIMD)' : ''}${info.threads ? ' (threads)' : ''}, tfjs ${info.tfjsVersion}; batch ${B} × ${T} frames; loss ${loss}`);
const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');
console.log(`load average ${load()} (1, 5, 15 min)`);
for (const note of info.notes) console.log(`  note: ${note}`);

function randomBatch(): Batch {
  const rng = seedrandom('bench');
  const n = B * T * 257;
  const features = new Float32Array(n);
  const noisyMag = new Float32Array(n);
  const cleanMag = new Float32Array(n);
  const noisyRe = new Float32Array(n);
  const noisyIm = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    features[i] = 10 + 25 * rng();
    noisyMag[i] = rng();
    cleanMag[i] = noisyMag[i] * rng();
    const phase = 2 * Math.PI * rng();
    noisyRe[i] = noisyMag[i] * Math.cos(phase);
    noisyIm[i] = noisyMag[i] * Math.sin(phase);
  }
  const clean = Float32Array.from({ length: B * T * 256 }, () => rng() - 0.5);
  return { batch: B, frames: T, features, noisyMag, cleanMag, noisyRe, noisyIm, clean };
}

function qatMode(arch: ArchName): { mode: QuantMode; observer: RangeObserver } {
  const observer = new RangeObserver();
  for (const n of observedActivationNames(ARCHS[arch])) observer.ranges[n] = [-8, 8];
  return { mode: { weights: true, act: (n) => observer.params(n) }, observer };
}

function measure(arch: ArchName, quant: 'float' | 'qat'): number {
  const net = new SeNet(arch, 256, initWeights(ARCHS[arch], 1));
  const adam = new Adam(net.vars);
  const batch = randomBatch();
  const mode = quant === 'qat' ? qatMode(arch).mode : FLOAT_MODE;
  trainStep(net, adam, batch, mode, 1e-3, undefined, loss); // warm-up: kernel setup, allocations
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) trainStep(net, adam, batch, mode, 1e-3, undefined, loss);
  const sps = steps / ((performance.now() - t0) / 1000);
  adam.dispose();
  net.dispose();
  return sps;
}

/** Steps/s of data-parallel steps over `n` parts (the main thread and n − 1 workers), as `hil train --workers n`. */
async function measureWorkers(arch: ArchName, quant: 'float' | 'qat', n: number): Promise<number> {
  if (n === 1) return measure(arch, quant);
  const net = new SeNet(arch, 256, initWeights(ARCHS[arch], 1));
  const adam = new Adam(net.vars);
  const batch = randomBatch();
  const { mode, observer } = quant === 'qat' ? qatMode(arch) : { mode: FLOAT_MODE, observer: new RangeObserver() };
  const pool = await GradientWorkers.start(n, net, { backend: info.backend as BackendChoice, kernelFixes: true });
  try {
    await pool.step(net, adam, batch, mode, observer, 1e-3, undefined, loss); // warm-up, as measure()
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await pool.step(net, adam, batch, mode, observer, 1e-3, undefined, loss);
    return steps / ((performance.now() - t0) / 1000);
  } finally {
    await pool.close();
    adam.dispose();
    net.dispose();
  }
}

/** Weight MACs per frame of the full architecture. */
function macsPerFrame(arch: ArchName): number {
  const a = ARCHS[arch];
  let macs = a.nBins * a.d0 + a.hidden * a.nBins;
  for (let l = 0, inF = a.d0; l < a.layers; l++, inF = a.hidden) macs += (a.cell === 'lstm' ? 4 : 3) * a.hidden * (inF + a.hidden);
  return macs;
}

/** GFLOP/s of a [B·T × 256] × [256 × 768] matmul (a GRU layer's input projection at this batch). */
function matmulGflops(): number {
  const x = tf.randomNormal([B * T, 256]);
  const w = tf.randomNormal([256, 768]);
  tf.matMul(x, w).dispose();
  const reps = 10;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const y = tf.matMul(x, w);
    y.dataSync();
    y.dispose();
  }
  const s = (performance.now() - t0) / 1000;
  x.dispose();
  w.dispose();
  return (reps * 2 * B * T * 256 * 768) / s / 1e9;
}
const peak = matmulGflops();
console.log(`plain matmul [${B * T}×256]·[256×768]: ${peak.toFixed(2)} GFLOP/s`);

/**
 * The same matmul on `n` threads at once (the main thread and n − 1 workers with their own wasm tfjs):
 * the summed GFLOP/s say how much of n cores this process can actually get on the machine right now.
 */
async function parallelMatmulGflops(n: number): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  const tfjs = import.meta.resolve('@tensorflow/tfjs');
  const wasm = import.meta.resolve('@tensorflow/tfjs-backend-wasm');
  const code = `(async () => {
    const { parentPort, workerData: { M } } = await import('node:worker_threads');
    const tf = await import(${JSON.stringify(tfjs)});
    await import(${JSON.stringify(wasm)});
    await tf.setBackend('wasm');
    await tf.ready();
    const x = tf.randomNormal([M, 256]);
    const w = tf.randomNormal([256, 768]);
    tf.matMul(x, w).dispose();
    parentPort.on('message', (reps) => {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) { const y = tf.matMul(x, w); y.dataSync(); y.dispose(); }
      parentPort.postMessage((performance.now() - t0) / 1000);
    });
    parentPort.postMessage('ready');
  })();`;
  const workers = Array.from({ length: n - 1 }, () => new Worker(code, { eval: true, workerData: { M: B * T }, execArgv: [] }));
  try {
    const next = (w: InstanceType<typeof Worker>) => new Promise<unknown>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    await Promise.all(workers.map(next));
    const reps = 10;
    const done = workers.map(next);
    for (const w of workers) w.postMessage(reps);
    const flops = reps * 2 * B * T * 256 * 768;
    const own = flops / (await Promise.resolve().then(() => {
      const x = tf.randomNormal([B * T, 256]);
      const w = tf.randomNormal([256, 768]);
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) {
        const y = tf.matMul(x, w);
        y.dataSync();
        y.dispose();
      }
      x.dispose();
      w.dispose();
      return (performance.now() - t0) / 1000;
    }));
    const others = (await Promise.all(done)) as number[];
    return (own + others.reduce((a, s) => a + flops / s, 0)) / 1e9;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
const stepGflop = (arch: ArchName) => (6 * macsPerFrame(arch) * B * T) / 1e9;

if (workerCounts) {
  setKernelFixes(true);
  for (const n of workerCounts.filter((c) => c > 1)) {
    const g = await parallelMatmulGflops(n);
    console.log(`the same matmul on ${n} threads at once: ${g.toFixed(2)} GFLOP/s in all (${((100 * g) / peak).toFixed(0)} % of one thread's)`);
  }
  console.log(['arch', 'step', ...workerCounts.map((n) => `steps/s (${n} worker${n > 1 ? 's' : ''})`), ...workerCounts.map((n) => `GFLOP/s (${n})`), ...workerCounts.map((n) => `of matmul (${n})`), 'load'].join('\t'));
  for (const arch of archs as ArchName[]) {
    for (const quant of ['float', 'qat'] as const) {
      const sps: number[] = [];
      for (const n of workerCounts) sps.push(await measureWorkers(arch, quant, n));
      const g = sps.map((v) => v * stepGflop(arch));
      console.log([arch, quant, ...sps.map((v) => v.toFixed(3)), ...g.map((v) => v.toFixed(2)), ...g.map((v) => `${((100 * v) / peak).toFixed(0)} %`), load().split(' ')[0]].join('\t'));
    }
  }
  console.log(`load average ${load()} at the end; "of matmul" is against one core's plain matmul above`);
} else {
  const fixesOptions = info.backend === 'wasm' ? [true, false] : [true];
  console.log(['arch', 'step', ...fixesOptions.map((f) => (info.backend !== 'wasm' ? 'steps/s' : f ? 'steps/s (fixes)' : 'steps/s (tfjs kernels)')), 'GFLOP/s', 'of matmul'].join('\t'));
  for (const arch of archs as ArchName[]) {
    for (const quant of ['float', 'qat'] as const) {
      const row: string[] = [arch, quant];
      let best = 0;
      for (const fixes of fixesOptions) {
        setKernelFixes(fixes);
        const sps = measure(arch, quant);
        best = Math.max(best, sps);
        row.push(sps.toFixed(3));
      }
      const g = best * stepGflop(arch);
      row.push(g.toFixed(2), `${((100 * g) / peak).toFixed(0)} %`);
      console.log(row.join('\t'));
    }
  }
  setKernelFixes(true);
}
