/** The protocol client's flow control, timeouts, retransmission and duplicate handling, against an
 *  in-process fake device on a real Duplex stream. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceError, LinkError, MAX_IN_FLIGHT, ProtocolClient } from '../../src/link/client.js';
import { FLAG_RETRANSMIT } from '../../src/link/frame.js';
import { Msg } from '../../src/link/messages.js';
import { StreamTransport } from '../../src/link/transport.js';
import { FakeDevice, type FakeDeviceOptions } from './support/fake-device.js';

function connect(opts: FakeDeviceOptions, client: { requestMs?: number; retries?: number } = {}) {
  const dev = new FakeDevice(opts);
  const line = new StreamTransport(dev.hostSide, 'fake');
  line.startFrames();
  const logs: string[] = [];
  const c = new ProtocolClient(line, { requestMs: client.requestMs ?? 200, retries: client.retries ?? 2, log: (_l, t) => logs.push(t) });
  return { dev, line, c, logs };
}

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
  const { dev, c, line, logs } = connect({ dropRequest: (f, copy) => f.type === Msg.RUN_FRAME && f.seq === 6 && copy === 1 }, { requestMs: 80 });
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
  const { dev, c, line } = connect({ dropReply: (f, copy) => f.type === Msg.RUN_FRAME && f.seq === 3 && copy === 1 }, { requestMs: 80 });
  await c.hello();
  await runFrames(c, 6, 256);
  assert.equal(dev.executed.filter((e) => e.type === Msg.RUN_FRAME).length, 6);
  assert.equal(dev.received.filter((f) => f.seq === 3).length, 2);
  assert.equal(c.stats.retransmissions, 1);
  await line.close();
});

test('no answer at all: the request fails after 1 + retries attempts, naming itself and its seq', async () => {
  const { dev, c, line } = connect({ silent: true }, { requestMs: 40, retries: 2 });
  const t0 = Date.now();
  await assert.rejects(c.request(Msg.GET_STATS, {}), (e: unknown) => {
    assert.ok(e instanceof LinkError);
    assert.equal(e.request, 'GET_STATS');
    assert.match(e.message, /^GET_STATS \(seq 1\): no reply after 3 attempts of 40 ms$/);
    assert.ok(e.hint && !e.line().includes('\n'));
    return true;
  });
  assert.ok(Date.now() - t0 >= 120);
  assert.equal(dev.received.length, 3);
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
  const { encodeWireFrame } = await import('../../src/link/frame.js');
  const { encodePayload } = await import('../../src/link/messages.js');
  dev.inject(encodeWireFrame({ type: 0xa0, flags: 0, seq: 1, payload: new Uint8Array(0) }));
  dev.inject(encodeWireFrame({ type: Msg.LOG, flags: 0, seq: 0, payload: encodePayload(Msg.LOG, { level: 2, text: 'dropped a frame with a bad CRC' }) }));
  await c.request(Msg.STREAM_RESET, {});
  assert.equal(c.stats.staleReplies, 1);
  assert.ok(logs.includes('device: dropped a frame with a bad CRC'));
  await line.close();
});

test('fail() rejects everything pending and later, with the cause and the request', async () => {
  const { c, line } = connect({ silent: true }, { requestMs: 10_000 });
  const pending = c.request(Msg.RUN_FRAME, { frameIndex: 9, samples: samples(128, 9) }, { label: 'RUN_FRAME frame_index 9' });
  setTimeout(() => c.fail(new LinkError('the sim board process died (signal SIGKILL)', 'board')), 20);
  await assert.rejects(pending, /^LinkError: RUN_FRAME frame_index 9: the sim board process died \(signal SIGKILL\)$/);
  await assert.rejects(c.request(Msg.GET_STATS, {}), /GET_STATS: the sim board process died/);
  await line.close();
});

test('an unanswered request times out rather than hangs; after the line closed, requests fail at once', async () => {
  const { c, line } = connect({ silent: true }, { requestMs: 30, retries: 0 });
  const p = c.request(Msg.GET_STATS, {});
  await assert.rejects(p, /no reply after 1 attempts/);
  await line.close();
  await assert.rejects(c.request(Msg.GET_STATS, {}), /GET_STATS: .*closed|cannot write/);
});
