/**
 * The measurement link end to end: the real sim firmware (firmware/ports/host) on a real pseudo-terminal,
 * driven through the board registry, transport, client and session. Outputs are compared with the host
 * engine (src/engine) and with the shared engine vectors (test/vectors/engine).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Engine } from '../../src/engine/index.js';
import type { Board } from '../../src/board/board.js';
import { loadBoard } from '../../src/board/registry.js';
import type { SimBoard } from '../../src/board/sim.js';
import type { FrameResult } from '../../src/link/session.js';
import { Msg } from '../../src/link/messages.js';
import { decodeChunk } from '../../src/link/frame.js';

const VEC = new URL('../vectors/engine/', import.meta.url);
const COST = { macsPerCycle: 128, weightBytesPerCycle: 8, elementsPerCycle: 8, opOverheadCycles: 200, frontendCycles: 3000 };

function vector(name: string) {
  const blob = new Uint8Array(readFileSync(new URL(`${name}.hilm`, VEC)));
  const raw = readFileSync(new URL(`${name}.in.bin`, VEC));
  const input = new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  const rawOut = readFileSync(new URL(`${name}.out.bin`, VEC));
  const expected = new Int16Array(rawOut.buffer, rawOut.byteOffset, rawOut.length / 2);
  return { blob, input, expected };
}

/** The host engine's frames for the same input: what the device must reproduce bit for bit. */
function engineFrames(blob: Uint8Array, input: Int16Array) {
  const e = new Engine(blob);
  e.setCost(COST);
  const hop = e.blob.hop;
  const out: { output: Int16Array; counters: ReturnType<Engine['runFrame']>['counters'] }[] = [];
  for (let f = 0; f * hop < input.length; f++) {
    const r = e.runFrame(input.subarray(f * hop, (f + 1) * hop));
    out.push({ output: Int16Array.from(r.output), counters: { ...r.counters } });
  }
  return { hop, arenaBytes: e.arenaBytes, frames: out };
}

const boards: Board[] = [];
const logs: string[] = [];
async function simBoard(): Promise<SimBoard> {
  const b = (await loadBoard('sim', { log: (level, text) => logs.push(`${level} ${text}`) })) as SimBoard;
  boards.push(b);
  return b;
}
// Every sim process a test started is stopped, also when the test failed.
after(async () => {
  for (const b of boards) await b.close();
});

function checkFrame(r: FrameResult, want: ReturnType<typeof engineFrames>['frames'][number], f: number) {
  assert.deepEqual(r.output, want.output, `frame ${f} output`);
  assert.equal(r.macs, want.counters.macs, `frame ${f} macs`);
  assert.equal(r.weightBytes, want.counters.weightBytes);
  assert.equal(r.elements, want.counters.elements);
  assert.equal(r.ops, want.counters.ops);
  assert.equal(r.modelledCycles, want.counters.modelledCycles);
  assert.equal(r.latency, r.modelledCycles, 'the sim reports modelled cycles as its latency');
  assert.equal(r.networkLatency, r.modelledCycles - COST.frontendCycles, 'and the cost model without frontend_cycles as the network\'s');
}

test('sim: banner, HELLO, CONFIG, a flashed model, a clip bit-exact with the host engine, GET_STATS, RTT', async (t) => {
  const { blob, input, expected } = vector('tiny-dense');
  const want = engineFrames(blob, input);
  const board = await simBoard();
  assert.equal(await board.flash(blob), 'placed');
  const s = await board.open();
  assert.deepEqual(
    { name: s.banner.fields.name, board: s.banner.fields.board, protocol: s.banner.fields.protocol },
    { name: 'hil-firmware', board: 'sim', protocol: '2' },
  );
  const h = await s.hello();
  t.diagnostic(`HELLO reply: ${JSON.stringify(h)}`);
  assert.deepEqual(
    { ...h, buildId: '' },
    {
      protocolVersion: 2, maxPayload: 1024, rxCreditBytes: 4096, modelPartitionBytes: 4 << 20, arenaCapacityBytes: 256 << 10,
      clockHz: 500_000_000, latencyKind: 2, firmwareName: 'hil-firmware', firmwareVersion: '0.1.0', boardName: 'sim', buildId: '',
    },
  );
  assert.match(h.buildId, /^[0-9a-f]{16}$/);
  assert.equal(h.buildId, s.banner.fields.build);
  await s.configure(COST);
  const act = await s.loadModel(blob);
  assert.deepEqual(act, { blobBytes: blob.length, arenaBytes: want.arenaBytes, nTensors: act.nTensors, nOps: act.nOps, nFft: 512, hop: 256, modelId: act.modelId });
  assert.equal(s.client.stats.requests, 3, 'placed by the flasher: HELLO, CONFIG, MODEL_ACTIVATE and no upload');

  await s.resetStream();
  const outs: Int16Array[] = [];
  for (let f = 0; f < want.frames.length; f++) {
    const r = await s.runFrame(f, input.subarray(f * 256, (f + 1) * 256));
    checkFrame(r, want.frames[f]!, f);
    outs.push(r.output);
  }
  const all = new Int16Array(outs.length * 256);
  outs.forEach((o, f) => all.set(o, f * 256));
  assert.deepEqual(all, expected, 'the device reproduces the shared engine vector');

  const st = await s.stats();
  t.diagnostic(`GET_STATS: ${JSON.stringify(st)}`);
  assert.equal(st.modelFlashBytes, blob.length);
  assert.equal(st.arenaBytes, want.arenaBytes);
  assert.equal(st.framesRun, want.frames.length);
  assert.ok(st.imageFlashBytes > 16_000 && st.imageFlashBytes < 4 << 20, `image ${st.imageFlashBytes}`);
  // The dispatcher's static buffers alone (4 remembered replies, frame buffers) are over 5 KB.
  assert.ok(st.staticSramBytes > 5_000 && st.staticSramBytes < 1 << 20, `static SRAM ${st.staticSramBytes}`);
  assert.equal(st.stackSizeBytes > 200_000 && st.stackSizeBytes <= 256 << 10, true, `stack size ${st.stackSizeBytes}`);
  assert.ok(st.stackHighWaterBytes > 256 && st.stackHighWaterBytes < 64 << 10, `stack high water ${st.stackHighWaterBytes}`);

  // Round-trip time per RUN_FRAME, one at a time (hop 256 is stop-and-wait anyway).
  const rtt: number[] = [];
  const frame = input.subarray(0, 256);
  for (let f = 0; f < 300; f++) {
    const t0 = process.hrtime.bigint();
    await s.runFrame(f, frame);
    rtt.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  rtt.sort((a, b) => a - b);
  t.diagnostic(`RUN_FRAME round trip on sim (hop 256, tiny-dense, 300 frames): median ${rtt[150]!.toFixed(0)} µs, p10 ${rtt[30]!.toFixed(0)} µs, p90 ${rtt[270]!.toFixed(0)} µs`);
  await s.close();
});

test('sim: a second session on the same process, chunked upload, pipelined hop-128 frames', async () => {
  const { blob, input, expected } = vector('tiny-hop128');
  const want = engineFrames(blob, input);
  const board = await simBoard();
  const first = await board.open();
  await first.hello();
  await first.close();
  // The process keeps serving after the host closed the line; the new session wakes it with HIL?.
  const s = await board.open();
  assert.equal(await board.flash(blob), 'upload', 'a running sim cannot be flashed');
  await s.hello();
  await s.configure(COST);
  const before = s.client.stats.requests;
  const retransBefore = s.client.stats.retransmissions;
  const act = await s.loadModel(blob);
  assert.equal(act.hop, 128);
  const chunks = Math.ceil(blob.length / board.file.link.chunk_bytes);
  // A retransmission (a loaded machine can time a reply out) shrinks the chunks that follow it.
  if (s.client.stats.retransmissions === retransBefore) assert.equal(s.client.stats.requests - before, chunks + 2, 'MODEL_BEGIN, the chunks, MODEL_ACTIVATE');
  else assert.ok(s.client.stats.requests - before > chunks + 2, 'smaller chunks after a retransmission');
  // All frames queued at once: the client keeps up to three 275-byte frames in flight.
  const results = await Promise.all(want.frames.map((_, f) => s.runFrame(f, input.subarray(f * 128, (f + 1) * 128))));
  results.forEach((r, f) => checkFrame(r, want.frames[f]!, f));
  const all = new Int16Array(results.length * 128);
  results.forEach((r, f) => all.set(r.output, f * 128));
  assert.deepEqual(all, expected);
  // A clean line loses nothing; a loaded machine may still time a slow reply out and resend it.
  assert.equal(s.client.stats.rxCorrupt + s.client.stats.deviceDrops, 0, 'no corrupt or dropped frame');
  await s.close();
});

test('sim: a corrupted request is dropped by the device and recovered by retransmission', async () => {
  const { blob, input } = vector('tiny-dense');
  const want = engineFrames(blob, input);
  const board = await simBoard();
  await board.flash(blob);
  const s = await board.open();
  await s.hello();
  await s.configure(COST);
  await s.loadModel(blob);
  // Flip one payload byte of RUN_FRAME frame_index 2 on its way out, once.
  const transport = s.transport;
  const write = transport.write.bind(transport);
  let corrupted = 0;
  transport.write = (bytes: Uint8Array) => {
    const f = decodeChunk(bytes.subarray(1, bytes.length - 1));
    if (!corrupted && 'type' in f && f.type === Msg.RUN_FRAME && new DataView(f.payload.buffer).getUint32(0, true) === 2) {
      corrupted++;
      const bad = Uint8Array.from(bytes);
      bad[40] = bad[40] === 0x5a ? 0x5b : 0x5a; // never 0x00, which would split the frame
      return write(bad);
    }
    return write(bytes);
  };
  for (let f = 0; f < 5; f++) checkFrame(await s.runFrame(f, input.subarray(f * 256, (f + 1) * 256)), want.frames[f]!, f);
  assert.equal(corrupted, 1);
  assert.equal(s.client.stats.retransmissions, 1);
  assert.ok(logs.some((l) => l.includes('device: dropped a frame with a bad CRC')), 'the device said why it dropped the frame');
  assert.equal((await s.stats()).framesRun, 5, 'every frame ran exactly once');
  await s.close();
});

test('sim: killing the process mid-stream fails the pending frames with one line, not a hang', async () => {
  const { blob, input } = vector('tiny-hop128');
  const board = await simBoard();
  await board.flash(blob);
  const s = await board.open();
  await s.hello();
  await s.loadModel(blob);
  const frames = Array.from({ length: 2000 }, (_, f) => input.subarray((f % 40) * 128, (f % 40 + 1) * 128));
  let done = 0;
  const t0 = Date.now();
  const run = (async () => {
    for (let f = 0; f < frames.length; f++) {
      await s.runFrame(f, frames[f]!);
      done++;
      if (f === 50) process.kill(board.pid!, 'SIGKILL');
    }
  })();
  await assert.rejects(run, (e: Error & { line?: () => string }) => {
    const line = e.line ? e.line() : e.message;
    assert.match(e.message, /^RUN_FRAME frame_index \d+: board sim: the sim process was killed by SIGKILL$/);
    assert.ok(!line.includes('\n'), line);
    return true;
  });
  assert.ok(done >= 51 && done < 60, `frames done before the kill showed: ${done}`);
  assert.ok(Date.now() - t0 < board.file.link.rto_max_ms, 'detected before a request timeout could give up');
  // The host's end notices the line is gone (serialport alone would spin on zero-byte reads).
  for (let i = 0; i < 50 && !s.transport.isClosed; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(s.transport.isClosed, 'the line closed itself');
  await board.close();
});

test('sim: a device that restarts mid-session is reported as a reset, and the session goes on after loading the model again', async () => {
  const { blob, input } = vector('tiny-hop128');
  const want = engineFrames(blob, input);
  const board = await simBoard();
  await board.flash(blob);
  const s = await board.open();
  await s.hello();
  await s.configure(COST);
  await s.loadModel(blob);
  await s.resetStream();
  for (let f = 0; f < 3; f++) checkFrame(await s.runFrame(f, input.subarray(f * 128, (f + 1) * 128)), want.frames[f]!, f);
  // Behind the session's back, as a watchdog would: the core restarts and prints its banner.
  await s.client.request(Msg.RESET, {});
  for (let i = 0; i < 100 && s.linkStats().deviceResets === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.linkStats().deviceResets, 1, 'the banner in binary mode was seen');
  await assert.rejects(s.runFrame(3, input.subarray(384, 512)), (e: Error & { line?: () => string }) => {
    assert.equal(e.name, 'DeviceResetError');
    assert.match(e.message, /^RUN_FRAME frame_index 3: the device reset mid-session \(it printed "HIL-FW name=hil-firmware .* board=sim .*" again\)$/);
    return true;
  });
  await s.loadModel(blob);
  await s.resetStream();
  for (let f = 0; f < 3; f++) checkFrame(await s.runFrame(f, input.subarray(f * 128, (f + 1) * 128)), want.frames[f]!, f);
  assert.equal(s.linkStats().resyncs, 1, 'the restarted device got a HELLO before CONFIG and the upload');
  await s.close();
});
