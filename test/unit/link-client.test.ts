/** The protocol client's flow control, timeouts, retransmission and duplicate handling, against an
 *  in-process fake device on a real Duplex stream. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceError, DeviceHungError, DeviceResetError, LinkError, LinkNoisyError, MAX_IN_FLIGHT, ProtocolClient, seqAhead, type ClientTiming } from '../../src/link/client.js';
import { encodeWireFrame, FLAG_RETRANSMIT } from '../../src/link/frame.js';
import { Msg } from '../../src/link/messages.js';
import { StreamTransport } from '../../src/link/transport.js';
import { FakeDevice, type FakeDeviceOptions } from './support/fake-device.js';

function connect(opts: FakeDeviceOptions, timing: Partial<ClientTiming> = {}) {
  const dev = new FakeDevice(opts);
  const line = new StreamTransport(dev.hostSide, 'fake');
  line.startFrames();
  const logs: string[] = [];
  const c = new ProtocolClient(line, {
    rtoInitialMs: timing.rtoInitialMs ?? 200,
    rtoMinMs: timing.rtoMinMs ?? timing.rtoInitialMs ?? 200,
    rtoMaxMs: timing.rtoMaxMs ?? Math.max(2000, timing.rtoInitialMs ?? 0),
    giveUpMs: timing.giveUpMs ?? 3000,
    log: (_l, t) => logs.push(t),
  });
  return { dev, line, c, logs };
}

const BANNER = 'HIL-FW name=hil-firmware version=0.1.0 board=fake protocol=2 build=0000000000000000\nHIL-READY\n';

function samples(hop: number, seed: number): Int16Array {
  return Int16Array.from({ length: hop }, (_, i) => ((i * 31 + seed * 7) % 2000) - 1000);
}

/** Queues `n` RUN_FRAMEs at once (as a pipelined caller would) and checks each answer is its own. */
async function runFrames(c: ProtocolClient, n: number, hop: number) {
  const replies = await Promise.all(
    Array.from({ length: n }, (_, k) => c.request(Msg.RUN_FRAME, { frameIndex: k, samples: samples(hop, k) }, { label: `RUN_FRAME frame_index ${k}` })),
  );
  replies.forEach((r, k) => {
    assert.equal(r.frameIndex, k);
    assert.deepEqual(r.samples, samples(hop, k).reverse());
    assert.equal(r.latency, 1000n + BigInt(k));
  });
}

test('credit: at most min(rx_credit, 1024) bytes and 4 requests in flight; hop 128 pipelines, hop 256 does not', async () => {
  for (const [credit, hop, wantPeak] of [
    [4096, 128, 3], // 275-byte frames: three fit in 1024
    [4096, 256, 1], // 531-byte frames: stop-and-wait
    [600, 128, 2],
    [100, 128, 1], // below one frame: one at a time, still allowed
  ] as const) {
    const { dev, c, line } = connect({ rxCreditBytes: credit });
    await c.hello();
    await runFrames(c, 40, hop);
    assert.equal(dev.peakUnansweredRequests, wantPeak, `credit ${credit}, hop ${hop}`);
    assert.ok(dev.peakUnansweredBytes <= Math.max(Math.min(credit, 1024), 275 + 256 * (hop === 256 ? 1 : 0)));
    assert.equal(c.stats.retransmissions, 0);
    await line.close();
  }
});

test('small requests are capped by the duplicate window, not only by bytes', async () => {
  const { dev, c, line } = connect({});
  await c.hello();
  await Promise.all(Array.from({ length: 30 }, () => c.request(Msg.STREAM_RESET, {})));
  assert.equal(dev.peakUnansweredRequests, MAX_IN_FLIGHT);
  await line.close();
});

test('before HELLO the client waits for each answer; HELLO carries seq 0 and restarts the sequence at 1', async () => {
  const { dev, c, line } = connect({});
  await Promise.all([c.request(Msg.STREAM_RESET, {}), c.request(Msg.STREAM_RESET, {}), c.request(Msg.STREAM_RESET, {})]);
  assert.equal(dev.peakUnansweredRequests, 1);
  await c.hello();
  await c.request(Msg.CONFIG, { macsPerCycle: 1, weightBytesPerCycle: 1, elementsPerCycle: 1, opOverheadCycles: 0, frontendCycles: 0 });
  assert.deepEqual(dev.received.map((f) => [f.type, f.seq]), [[0x20, 1], [0x20, 2], [0x20, 3], [0x01, 0], [0x02, 1]]);
  await line.close();
});

test('a lost request is retransmitted with the same seq and flag bit 0, and later ones stay in order', async () => {
  // Frame 5's first copy is lost; the device drops frames 6 and 7 (out of sequence) until 5 arrives again.
  const { dev, c, line, logs } = connect({ dropRequest: (f, copy) => f.type === Msg.RUN_FRAME && f.seq === 6 && copy === 1 }, { rtoInitialMs: 80 });
  await c.hello();
  await runFrames(c, 12, 128);
  const copies = dev.received.filter((f) => f.seq === 6);
  assert.equal(copies.length, 2);
  assert.equal(copies[0]!.flags, 0);
  assert.equal(copies[1]!.flags, FLAG_RETRANSMIT);
  assert.deepEqual(dev.executed.filter((e) => e.type === Msg.RUN_FRAME).map((e) => e.frameIndex), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.ok(c.stats.retransmissions >= 1);
  assert.ok(logs.some((l) => /RUN_FRAME frame_index 5 \(seq 6\): no reply within 80 ms, retransmitting/.test(l)), logs.join('\n'));
  await line.close();
});

test('a lost reply: the retransmission gets the remembered reply and the frame is not run twice', async () => {
  const { dev, c, line } = connect({ dropReply: (f, copy) => f.type === Msg.RUN_FRAME && f.seq === 3 && copy === 1 }, { rtoInitialMs: 80 });
  await c.hello();
  await runFrames(c, 6, 256);
  assert.equal(dev.executed.filter((e) => e.type === Msg.RUN_FRAME).length, 6);
  assert.equal(dev.received.filter((f) => f.seq === 3).length, 2);
  assert.equal(c.stats.retransmissions, 1);
  await line.close();
});

test('no byte at all: the request fails as a hung device once the give-up time passed, backing off meanwhile', async () => {
  const { dev, c, line } = connect({ silent: true }, { rtoInitialMs: 40, rtoMaxMs: 1000, giveUpMs: 400 });
  const t0 = Date.now();
  await assert.rejects(c.request(Msg.GET_STATS, {}), (e: unknown) => {
    assert.ok(e instanceof DeviceHungError, String(e));
    assert.equal(e.request, 'GET_STATS');
    // Copies at 0, 40, 120 and 280 ms (the timeout doubles), then the budget ends at 400 ms.
    assert.match(e.message, /^GET_STATS \(seq 1\): the device sent no byte at all for 0\.4 s \(4 attempts\): it looks hung$/);
    assert.ok(e.hint && !e.line().includes('\n'));
    return true;
  });
  assert.ok(Date.now() - t0 >= 400);
  assert.equal(dev.received.length, 4);
  assert.equal(c.stats.failures, 1);
  await line.close();
});

test('bytes keep coming but no reply: the request fails as a noisy line, counting the corrupt frames', async () => {
  const { dev, c, line } = connect({ silent: true }, { rtoInitialMs: 40, giveUpMs: 300 });
  const noise = setInterval(() => dev.inject(Buffer.from([0, 0x31, 0x32, 0x33, 0x34, 0])), 20);
  await assert.rejects(c.request(Msg.GET_STATS, {}), (e: unknown) => {
    assert.ok(e instanceof LinkNoisyError, String(e));
    assert.match(e.message, /^GET_STATS \(seq 1\): no reply within 0\.3 s over a noisy line \(\d+ attempts, \d+ corrupt frames dropped meanwhile\)$/);
    assert.ok(e.corruptFrames >= 5, e.message);
    return true;
  });
  clearInterval(noise);
  await line.close();
});

test('defect 1: a lost reply stays recoverable while small requests are pipelined (a window over seq, not a count)', async () => {
  // Before the window, requests 4-7 were sent and executed while 3 waited: the device no longer
  // remembered 3, dropped its every retransmission as out of sequence, and the request failed.
  const { dev, c, line } = connect({ dropReply: (f, copy) => f.seq === 3 && copy === 1 }, { rtoInitialMs: 40, giveUpMs: 2000 });
  await c.hello();
  await Promise.all(Array.from({ length: 12 }, () => c.request(Msg.STREAM_RESET, {})));
  assert.equal(dev.executed.filter((e) => e.type === Msg.STREAM_RESET).length, 12, 'each request executed exactly once');
  assert.deepEqual(dev.received.filter((f) => f.seq === 3).map((f) => f.flags), [0, FLAG_RETRANSMIT]);
  // Request 7 waited for the reply to 3: it is DUP_WINDOW ahead.
  const firstOf = (seq: number) => dev.received.findIndex((f) => f.seq === seq);
  assert.ok(firstOf(7) > dev.received.findIndex((f) => f.seq === 3 && f.flags === FLAG_RETRANSMIT), 'seq 7 went out only after 3 was answered');
  await line.close();
});

test('seqAhead counts through the wrap from 0xFFFF to 1', () => {
  assert.equal(seqAhead(5, 9), 4);
  assert.equal(seqAhead(0xfffe, 1), 2);
  assert.equal(seqAhead(0xffff, 3), 3);
  assert.equal(seqAhead(7, 7), 0);
});

test('defect 2: the retry budget is time, so a request lost six times in a row still gets through', async () => {
  // A fixed budget of 3 retries failed here.
  const { c, line } = connect({ dropRequest: (f, copy) => f.seq === 2 && copy <= 6 }, { rtoInitialMs: 20, rtoMaxMs: 80, giveUpMs: 2000 });
  await c.hello();
  for (let i = 0; i < 4; i++) await c.request(Msg.STREAM_RESET, {});
  assert.equal(c.stats.timeouts, 6);
  assert.equal(c.stats.failures, 0);
  await line.close();
});

test('defect 2: the timeout follows the measured round trip; Karn: no sample from a retransmitted request', async () => {
  // The device takes 150 ms; the initial timeout of 30 ms is far too short.
  const { c, line } = connect({ replyDelayMs: 150 }, { rtoInitialMs: 30, rtoMinMs: 10, rtoMaxMs: 5000, giveUpMs: 5000 });
  await c.hello();
  const helloTimeouts = c.stats.timeouts;
  for (let i = 0; i < 8; i++) await c.request(Msg.STREAM_RESET, {});
  const est = c.rttSummary().STREAM_RESET!;
  // The first request times out at 30 and 90 ms and is answered at 150; the second starts from the
  // backed-off 120 ms and times out once more; from the third on, 240 ms is enough and each is measured.
  assert.equal(c.stats.timeouts - helloTimeouts, 3);
  assert.equal(est.samples, 6, 'the two retransmitted requests gave no sample');
  assert.ok(est.srttMs! > 140 && est.srttMs! < 260, `srtt ${est.srttMs}`);
  assert.ok(est.rtoMs > est.srttMs!, `rto ${est.rtoMs}`);
  const before = c.stats.retransmissions;
  for (let i = 0; i < 5; i++) await c.request(Msg.STREAM_RESET, {});
  assert.equal(c.stats.retransmissions, before, 'once measured, no spurious retransmissions');
  // A fast device brings the timeout down to its minimum.
  const fast = connect({}, { rtoInitialMs: 500, rtoMinMs: 15, rtoMaxMs: 5000 });
  await fast.c.hello();
  for (let i = 0; i < 30; i++) await fast.c.request(Msg.STREAM_RESET, {});
  assert.ok(fast.c.rttSummary().STREAM_RESET!.rtoMs < 100, JSON.stringify(fast.c.rttSummary()));
  await fast.line.close();
  await line.close();
});

test('a warning LOG from the device (it dropped a frame) retransmits at once, without waiting for the timeout', async () => {
  const { dev, c, line } = connect({ logDrops: true, dropRequest: (f, copy) => f.type === Msg.RUN_FRAME && f.seq === 6 && copy === 1 }, { rtoInitialMs: 3000, rtoMinMs: 3000 });
  await c.hello();
  const t0 = Date.now();
  await runFrames(c, 12, 128);
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
  assert.ok(c.stats.fastRetransmits >= 1 && c.stats.timeouts === 0, JSON.stringify(c.stats));
  assert.ok(c.stats.deviceDrops >= 1);
  assert.deepEqual(dev.executed.filter((e) => e.type === Msg.RUN_FRAME).map((e) => e.frameIndex), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  await line.close();
});

test('defect 3: after a request failed, the session resynchronises with HELLO and later requests work', async () => {
  // Request seq 2 is lost until its budget ran out; the device never executed it, so without a new
  // HELLO it would drop every later request as out of sequence.
  let blackout = true;
  const { dev, c, line } = connect({ dropRequest: (f) => blackout && f.seq === 2 }, { rtoInitialMs: 20, giveUpMs: 200 });
  await c.hello();
  await c.request(Msg.STREAM_RESET, {});
  const queued = [c.request(Msg.STREAM_RESET, {}, { label: 'second' }), c.request(Msg.STREAM_RESET, {}, { label: 'third' })];
  await assert.rejects(queued[0]!, (e: unknown) => e instanceof DeviceHungError);
  await assert.rejects(queued[1]!, /^LinkError: third: not answered, an earlier request failed: second \(seq 2\)/);
  blackout = false;
  await c.request(Msg.STREAM_RESET, {});
  await c.request(Msg.STREAM_RESET, {});
  assert.equal(c.stats.resyncs, 1);
  assert.deepEqual(dev.received.map((f) => [f.type, f.seq]).slice(-3), [[Msg.HELLO, 0], [Msg.STREAM_RESET, 1], [Msg.STREAM_RESET, 2]]);
  await line.close();
});

test('a banner mid-session fails what is pending as a device reset; one before any reply answered a wake line', async () => {
  const { dev, c, line } = connect({ dropRequest: (f) => f.type === Msg.GET_STATS }, { rtoInitialMs: 50 });
  dev.inject(Buffer.from(BANNER, 'latin1'));
  await c.hello();
  assert.equal(c.stats.deviceResets, 0);
  const pending = c.request(Msg.GET_STATS, {});
  setTimeout(() => dev.inject(Buffer.from(BANNER, 'latin1')), 30);
  await assert.rejects(pending, (e: unknown) => {
    assert.ok(e instanceof DeviceResetError, String(e));
    assert.match(e.message, /^GET_STATS: the device reset mid-session \(it printed "HIL-FW name=hil-firmware .*" again\)$/);
    return true;
  });
  assert.equal(c.stats.deviceResets, 1);
  // The next request restarts the sequence.
  await c.request(Msg.STREAM_RESET, {});
  assert.deepEqual(dev.received.map((f) => [f.type, f.seq]).slice(-2), [[Msg.HELLO, 0], [Msg.STREAM_RESET, 1]]);
  await line.close();
});

test('an ERROR reply rejects with the code, its meaning and the device message', async () => {
  const { c, line } = connect({});
  await c.hello();
  await assert.rejects(c.request(Msg.GET_STATS, {}), (e: unknown) => {
    assert.ok(e instanceof DeviceError);
    assert.equal(e.code, 3);
    assert.equal(e.message, 'GET_STATS refused by the device: error 3 (bad state): GET_STATS: the fake device keeps no statistics');
    return true;
  });
  await line.close();
});

test('a stale duplicate reply is ignored; LOG frames are logged', async () => {
  const { dev, c, line, logs } = connect({});
  await c.hello();
  await c.request(Msg.STREAM_RESET, {});
  const { encodePayload } = await import('../../src/link/messages.js');
  dev.inject(encodeWireFrame({ type: 0xa0, flags: 0, seq: 1, payload: new Uint8Array(0) }));
  dev.inject(encodeWireFrame({ type: Msg.LOG, flags: 0, seq: 0, payload: encodePayload(Msg.LOG, { level: 2, text: 'dropped a frame with a bad CRC' }) }));
  await c.request(Msg.STREAM_RESET, {});
  assert.equal(c.stats.staleReplies, 1);
  assert.ok(logs.includes('device: dropped a frame with a bad CRC'));
  await line.close();
});

test('fail() rejects everything pending and later, with the cause and the request', async () => {
  const { c, line } = connect({ silent: true }, { rtoInitialMs: 10_000 });
  const pending = c.request(Msg.RUN_FRAME, { frameIndex: 9, samples: samples(128, 9) }, { label: 'RUN_FRAME frame_index 9' });
  setTimeout(() => c.fail(new LinkError('the sim board process died (signal SIGKILL)', 'board')), 20);
  await assert.rejects(pending, /^LinkError: RUN_FRAME frame_index 9: the sim board process died \(signal SIGKILL\)$/);
  await assert.rejects(c.request(Msg.GET_STATS, {}), /GET_STATS: the sim board process died/);
  await line.close();
});

test('an unanswered request times out rather than hangs; after the line closed, requests fail at once', async () => {
  const { c, line } = connect({ silent: true }, { rtoInitialMs: 30, giveUpMs: 30 });
  const p = c.request(Msg.GET_STATS, {});
  await assert.rejects(p, /no byte at all .*\(1 attempts\)/);
  await line.close();
  await assert.rejects(c.request(Msg.GET_STATS, {}), /GET_STATS: .*closed|cannot write/);
});
