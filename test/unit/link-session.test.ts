/** What a Session guarantees above the client: a failed frame never lets a clip continue from a stream
 *  state the host engine does not share, a device reset is reported as one, and the counters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceResetError, LinkError, StreamStateError } from '../../src/link/errors.js';
import { parseBanner, StreamTransport } from '../../src/link/transport.js';
import { linkStatsDelta, Session, type LinkTiming } from '../../src/link/session.js';
import { Msg } from '../../src/link/messages.js';
import { FakeDevice, type FakeDeviceOptions } from './support/fake-device.js';

const LINK: LinkTiming = { banner_ms: 100, start_ms: 1000, rto_initial_ms: 20, rto_min_ms: 20, rto_max_ms: 100, give_up_ms: 200, activate_ms: 100, chunk_bytes: 480 };
const BLOB = new Uint8Array(100);
const BANNER = 'HIL-FW name=hil-firmware version=0.1.0 board=fake protocol=2 build=0000000000000000\nHIL-READY\n';

async function open(opts: FakeDeviceOptions) {
  const dev = new FakeDevice(opts);
  const line = new StreamTransport(dev.hostSide, 'fake');
  line.startFrames();
  // The fake's partition "holds" BLOB already, so loadModel only activates.
  const { crc32 } = await import('node:zlib');
  const s = new Session(line, parseBanner('HIL-FW board=fake'), { link: LINK, placed: { size: BLOB.length, crc32: crc32(BLOB) } });
  await s.hello();
  await s.loadModel(BLOB);
  return { dev, s };
}

const hop = (k: number) => Int16Array.from({ length: 128 }, (_, i) => i * k);

test('a RUN_FRAME that failed stops the stream until STREAM_RESET; the session itself recovers', async () => {
  let blackout = false;
  const { s } = await open({ dropRequest: (f) => blackout && f.type === 0x21 });
  await s.resetStream();
  await s.runFrame(0, hop(0));
  blackout = true;
  // Frames 1-3 in flight together: 1 fails on the link, 2 and 3 with it.
  const r = [1, 2, 3].map((f) => s.runFrame(f, hop(f)));
  await assert.rejects(r[0]!, (e: unknown) => e instanceof LinkError && /^RUN_FRAME frame_index 1 \(seq \d+\): the device sent no byte/.test(e.message));
  await assert.rejects(r[1]!, /an earlier request failed/);
  await assert.rejects(r[2]!, /an earlier request failed/);
  blackout = false;
  // The device may have run frame 1: going on with frame 4 would diverge from the host engine.
  await assert.rejects(s.runFrame(4, hop(4)), (e: unknown) => {
    assert.ok(e instanceof StreamStateError, String(e));
    assert.match(e.message, /^RUN_FRAME frame_index 4: not run, the model's stream state is unknown since RUN_FRAME frame_index 1 \(seq \d+\)/);
    return true;
  });
  await s.resetStream(); // after a transparent HELLO
  assert.equal((await s.runFrame(0, hop(0))).output.length, 128);
  const st = s.linkStats();
  assert.equal(st.failures, 1);
  assert.equal(st.resyncs, 1);
  assert.ok(st.timeouts > 0 && st.retransmissions >= st.timeouts);
  await s.close();
});

test('a device reset mid-session: pending and later frames fail as such until the model is loaded again', async () => {
  let lost = true;
  const { dev, s } = await open({ dropRequest: (f) => lost && f.type === 0x21 });
  await s.resetStream();
  const before = s.linkStats();
  const pending = s.runFrame(0, hop(0));
  setTimeout(() => dev.inject(Buffer.from(BANNER, 'latin1')), 5);
  await assert.rejects(pending, DeviceResetError);
  lost = false;
  await assert.rejects(s.runFrame(1, hop(1)), /^DeviceResetError: RUN_FRAME frame_index 1: the device reset mid-session \(it printed "/);
  await assert.rejects(s.resetStream(), DeviceResetError);
  assert.equal(s.model, null);
  await s.loadModel(BLOB);
  await s.resetStream();
  await s.runFrame(0, hop(0));
  const d = linkStatsDelta(before, s.linkStats());
  assert.equal(d.deviceResets, 1);
  assert.equal(d.resyncs, 1, 'the device restarted its sequence, so the next request went after a HELLO');
  await s.close();
});

test('RUN_PRELOADED_BATCH: one FrameResult per record in frame order; a lost reply is answered from memory, not run again', async () => {
  const { dev, s } = await open({ dropReply: (f, copy) => f.type === Msg.RUN_PRELOADED_BATCH && copy === 1 });
  await s.resetStream();
  assert.equal(s.maxBatchFrames, 25, '(1024 - 8) / 40 records fit the fake\'s max payload');
  const r = await s.runPreloadedBatch(10, 4096, 3);
  assert.deepEqual(
    r.map((f) => [f.latency, f.networkLatency, f.modelledCycles, f.outputCrc32, f.output]),
    [10, 11, 12].map((i, k) => [1000 + i, 500 + i, 1000 + i, 4096 + 256 * k, null]),
  );
  assert.equal(dev.executed.filter((e) => e.type === Msg.RUN_PRELOADED_BATCH).length, 1, 'the retransmission was not executed');
  assert.ok(s.linkStats().retransmissions >= 1);
  await assert.rejects(s.runPreloadedBatch(0, 0, 26), /runPreloadedBatch: 26 frames asked for, one request holds 1 to 25/);
  await assert.rejects(s.runPreloadedBatch(0, 0, 0), /1 to 25/);
  await s.close();
});

test('RUN_PRELOADED_BATCH on firmware that predates it: error 2 said in one line, with the way out', async () => {
  const { s } = await open({ unknownTypes: [Msg.RUN_PRELOADED_BATCH] });
  await s.resetStream();
  await assert.rejects(s.runPreloadedBatch(0, 0, 4), /RUN_PRELOADED_BATCH frame_index 0\.\.3: the board's firmware does not know RUN_PRELOADED_BATCH \(error 2, unknown type\)/);
  await s.close();
});
