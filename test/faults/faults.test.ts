/**
 * The link over a line that loses, corrupts, duplicates and delays bytes: the real sim firmware behind
 * test/support/faulty_link.py at 1e-3 faults per byte in each direction. Every model is uploaded over
 * the faulty line, and every frame must still equal the host engine's, with no clip lost. CI-sized;
 * `npm run bench:faults` sweeps harsher rates.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openFaultySim, streamClips, type FaultySim } from '../support/faultyLink.js';

const RATE = 1e-3;
const COST = { macsPerCycle: 128, weightBytesPerCycle: 8, elementsPerCycle: 8, opOverheadCycles: 200, frontendCycles: 3000 };
const vector = (name: string) => new Uint8Array(readFileSync(new URL(`../vectors/engine/${name}.hilm`, import.meta.url)));

const open: FaultySim[] = [];
after(async () => {
  for (const f of open) await f.close();
});

async function faulty(seed: number): Promise<FaultySim> {
  const f = await openFaultySim({ rate: RATE, seed });
  open.push(f);
  await f.session.hello();
  await f.session.configure(COST);
  return f;
}

for (const [name, seed] of [['tiny-hop128', 11], ['tiny-dense', 12]] as const) {
  test(`${name}: 1000 frames at ${RATE} faults/byte, every frame bit-exact, no clip lost`, async (t) => {
    const f = await faulty(seed);
    const s = f.session;
    const act = await s.loadModel(vector(name));
    const r = await streamClips(s, vector(name), 5, 200, COST);
    const st = s.linkStats();
    const faults = await f.faults();
    t.diagnostic(
      `hop ${act.hop}: ${r.frames} frames in ${(r.ms / 1000).toFixed(1)} s, goodput ${((r.payloadBytes / r.ms) * 1000 / 1024).toFixed(1)} KiB/s, ` +
        `${st.retransmissions} retransmissions (${st.timeouts} on timeout), ${st.rxCorrupt} corrupt frames in, ${st.deviceDrops} dropped by the device, ` +
        `faults injected: ${JSON.stringify(faults)}`,
    );
    assert.deepEqual(r.lostClips, []);
    assert.equal(r.frames, 1000);
    assert.equal(r.bitExactFrames, 1000);
    // The faults really happened and were really recovered from.
    assert.ok(faults.to_device.drop + faults.to_device.flip > 50 && faults.to_host.drop + faults.to_host.flip > 20, JSON.stringify(faults));
    assert.ok(st.retransmissions > 50 && st.failures === 0, JSON.stringify(st));
    assert.equal((await s.stats()).framesRun, 1000, 'no frame ran twice');
  });
}

test(`a 113 KB model upload at ${RATE} faults/byte arrives intact (MODEL_ACTIVATE checks its CRC) and runs bit-exact`, async (t) => {
  const f = await faulty(13);
  const s = f.session;
  const blob = vector('small-pruned-auto');
  const t0 = performance.now();
  const before = s.linkStats();
  await s.loadModel(blob);
  const ms = performance.now() - t0;
  const st = s.linkStats();
  t.diagnostic(
    `upload of ${blob.length} bytes in ${(ms / 1000).toFixed(1)} s (${((blob.length / ms) * 1000 / 1024).toFixed(1)} KiB/s), ` +
      `${st.requests - before.requests} requests, ${st.retransmissions - before.retransmissions} retransmissions`,
  );
  assert.ok(st.retransmissions - before.retransmissions > 10, 'the upload met faults');
  const r = await streamClips(s, blob, 1, 50, COST);
  assert.deepEqual(r.lostClips, []);
  assert.equal(r.bitExactFrames, 50);
});
