/** The transport's banner phase: wake lines, console noise, and the switch to frames losing no byte. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import seedrandom from 'seedrandom';
import { encodeWireFrame, type Frame } from '../../src/link/frame.js';
import { StreamTransport } from '../../src/link/transport.js';
import { HilError } from '../../src/util/errors.js';

function line() {
  const toHost = new PassThrough();
  const toDevice = new PassThrough();
  const logs: string[] = [];
  const t = new StreamTransport(Duplex.from({ readable: toHost, writable: toDevice }), 'fake', (_l, m) => logs.push(m));
  const frames: Frame[] = [];
  t.on('frame', (f: Frame) => frames.push(f));
  return { t, toHost, toDevice, logs, frames };
}

const BANNER = 'HIL-FW name=hil-firmware version=0.1.0 board=fake protocol=2 build=abc\r\nHIL-READY\r\n';

test('a silent device is woken with \\x00HIL? every banner_ms; console lines are logged', async () => {
  const { t, toHost, toDevice, logs } = line();
  let wakes = 0;
  toDevice.on('data', (b: Buffer) => {
    if (!b.includes('HIL?\n')) return;
    if (++wakes === 2) toHost.write('console: booting\r\n' + BANNER);
  });
  const t0 = Date.now();
  const banner = await t.readBanner({ bannerMs: 30, startMs: 2000 });
  assert.equal(wakes, 2);
  assert.ok(Date.now() - t0 >= 55);
  assert.deepEqual(banner.fields, { name: 'hil-firmware', version: '0.1.0', board: 'fake', protocol: '2', build: 'abc' });
  assert.ok(logs.some((l) => l === 'fake console: console: booting'), logs.join('\n'));
  await t.close();
});

test('a banner whose HIL-READY line was corrupted on the way is asked for again', async () => {
  // Before, the host stopped waking once a HIL-FW line had arrived and waited for HIL-READY forever.
  const { t, toHost, toDevice } = line();
  let wakes = 0;
  toDevice.on('data', (b: Buffer) => {
    if (!b.includes('HIL?\n')) return;
    wakes++;
    toHost.write(wakes === 1 ? BANNER.replace('HIL-READY', 'HIL-REAdY') : BANNER);
  });
  const banner = await t.readBanner({ bannerMs: 30, startMs: 2000 });
  assert.equal(wakes, 2);
  assert.equal(banner.fields.board, 'fake');
  await t.close();
});

test('a banner in binary mode is reported as one, its bytes are not a frame', async () => {
  const { t, toHost } = line();
  t.startFrames();
  const banners: string[] = [];
  const dropped: string[] = [];
  t.on('banner', (l: string) => banners.push(l));
  t.on('dropped', (why: string) => dropped.push(why));
  toHost.write(encodeWireFrame({ type: 0xa0, flags: 0, seq: 1, payload: new Uint8Array(0) }));
  toHost.write(BANNER.slice(0, 20));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(banners, [], 'not before its HIL-READY line is complete');
  toHost.write(BANNER.slice(20));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(banners, ['HIL-FW name=hil-firmware version=0.1.0 board=fake protocol=2 build=abc']);
  toHost.write(encodeWireFrame({ type: 0xa0, flags: 0, seq: 2, payload: new Uint8Array(0) }));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(dropped, [], 'the banner bytes were taken out of the chunk');
  assert.ok(t.rxBytes > BANNER.length);
  await t.close();
});

test('frames right behind HIL-READY, full of 0x0A bytes and split anywhere, all arrive intact', async () => {
  const payload = (k: number) => Uint8Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 0x0a : i % 3 === 1 ? 0x0d : k + 1));
  const frames = [0, 1, 2, 3].map((k): Frame => ({ type: 0xa1, flags: 0, seq: k + 1, payload: payload(k) }));
  const bytes = Buffer.concat([Buffer.from('noise\n' + BANNER, 'latin1'), ...frames.map((f) => encodeWireFrame(f))]);
  for (const seed of ['one chunk', 'a', 'b', 'c', 'd', 'e']) {
    const { t, toHost, frames: got } = line();
    const ready = t.readBanner({ bannerMs: 1000, startMs: 2000 });
    const rnd = seedrandom(seed);
    for (let at = 0; at < bytes.length; ) {
      const n = seed === 'one chunk' ? bytes.length : 1 + Math.floor(rnd() * 200);
      toHost.write(bytes.subarray(at, at + n));
      at += n;
    }
    await ready;
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, frames, `split "${seed}"`);
    await t.close();
  }
});

test('no banner within start_ms is a one-line error; so is the line closing', async () => {
  const { t, toDevice } = line();
  let wakes = 0;
  toDevice.on('data', () => wakes++);
  await assert.rejects(t.readBanner({ bannerMs: 20, startMs: 110 }), (e: unknown) => {
    assert.ok(e instanceof HilError);
    assert.match(e.line(), /^no banner from the board on fake within 110 ms \(.*\)$/);
    return true;
  });
  assert.ok(wakes >= 4, `${wakes} wake lines`);
  await t.close();

  const b = line();
  const p = b.t.readBanner({ bannerMs: 1000, startMs: 5000 });
  b.toHost.end();
  await assert.rejects(p, /the line to fake closed/);
});
