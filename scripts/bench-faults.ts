/**
 * npm run bench:faults: the link over the real sim firmware behind the fault-injecting pty proxy
 * (test/support/faulty_link.py), at 1e-4, 1e-3, 3e-3 and 1e-2 faults per byte in each direction. Per
 * rate: a model upload and clips of a hop-128 model, then whether everything completed, whether every
 * frame equals the host engine's, and what the line cost (retransmissions, timeouts, goodput).
 * Harsher rates run fewer frames: at 1e-2 a 275-byte frame and its reply cross intact together about
 * one time in 80.
 *
 *   npm run bench:faults [-- --rates 1e-3,1e-2 --seed 1]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openFaultySim, streamClips } from '../test/support/faultyLink.js';

const COST = { macsPerCycle: 128, weightBytesPerCycle: 8, elementsPerCycle: 8, opOverheadCycles: 200, frontendCycles: 3000 };
const { values } = parseArgs({ options: { rates: { type: 'string', default: '1e-4,1e-3,3e-3,1e-2' }, seed: { type: 'string', default: '1' } } });
const rates = values.rates.split(',').map(Number);
const blob = new Uint8Array(readFileSync(new URL('../test/vectors/engine/tiny-hop128.hilm', import.meta.url)));
/** Frames per rate: enough to measure, few enough that 1e-2 ends within minutes. */
const framesAt = (rate: number) => (rate >= 1e-2 ? 50 : rate >= 3e-3 ? 400 : 1000);
const FRAMES_PER_CLIP = 50;

interface Row {
  rate: string;
  completed: string;
  bitExact: string;
  uploadS: string;
  frames: string;
  runS: string;
  goodput: string;
  retx: string;
  timeouts: string;
  corrupt: string;
  resyncs: string;
}

const rows: Row[] = [];
for (const rate of rates) {
  const frames = framesAt(rate);
  // The banner crosses the same noise, and at 1e-2 one frame can need hundreds of copies (over 10 s,
  // sim's give_up_ms): a line this bad wants a longer budget in its board file, and a lost clip is run
  // again from STREAM_RESET, up to twice.
  const f = await openFaultySim({ rate, seed: Number(values.seed), link: { start_ms: 60_000, give_up_ms: rate >= 1e-2 ? 60_000 : 10_000 } });
  const s = f.session;
  let row: Row;
  try {
    const t0 = performance.now();
    await s.hello();
    await s.configure(COST);
    await s.loadModel(blob);
    const uploadMs = performance.now() - t0;
    const clips = frames / FRAMES_PER_CLIP;
    const r = await streamClips(s, blob, clips, FRAMES_PER_CLIP, COST, 2);
    const st = s.linkStats();
    row = {
      rate: rate.toExponential(0),
      completed: `${clips - r.lostClips.length}/${clips} clips${r.retriedClips ? ` (${r.retriedClips} rerun)` : ''}`,
      bitExact: `${r.bitExactFrames}/${r.frames}`,
      uploadS: (uploadMs / 1000).toFixed(1),
      frames: String(r.frames),
      runS: (r.ms / 1000).toFixed(1),
      goodput: `${((r.payloadBytes / r.ms) * 1000 / 1024).toFixed(1)} KiB/s`,
      retx: String(st.retransmissions),
      timeouts: String(st.timeouts),
      corrupt: `${st.rxCorrupt}+${st.deviceDrops}`,
      resyncs: String(st.resyncs),
    };
    for (const l of r.lostClips) console.error(`  ${rate}: ${l}`);
  } catch (e) {
    const st = s.linkStats();
    row = { rate: rate.toExponential(0), completed: `failed: ${(e as Error).message}`, bitExact: '-', uploadS: '-', frames: '-', runS: '-', goodput: '-', retx: String(st.retransmissions), timeouts: String(st.timeouts), corrupt: `${st.rxCorrupt}+${st.deviceDrops}`, resyncs: String(st.resyncs) };
  }
  await f.close();
  rows.push(row);
  console.error(`${row.rate}: ${row.completed}, ${row.bitExact} bit-exact, ${row.runS} s`);
}

const head: Row = {
  rate: 'faults/byte',
  completed: 'completed',
  bitExact: 'bit-exact frames',
  uploadS: 'upload 31 KB (s)',
  frames: 'frames',
  runS: 'frames (s)',
  goodput: 'goodput',
  retx: 'retransmissions',
  timeouts: 'of which timeouts',
  corrupt: 'corrupt in+dev',
  resyncs: 'resyncs',
};
const keys = Object.keys(head) as (keyof Row)[];
const width = (k: keyof Row) => Math.max(...[head, ...rows].map((r) => r[k].length));
for (const r of [head, ...rows]) console.log(`| ${keys.map((k) => r[k].padEnd(width(k))).join(' | ')} |`);
