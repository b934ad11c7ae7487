/**
 * src/data/wav.ts: exact integer scaling for every PCM depth, float input, channel mixing, resampling, and
 * one-line errors naming the file for what cannot be read. Fixtures are written to a temp dir: int
 * depths through wavefile's writer with raw integer samples (so the expected floats are exact), and a
 * WAVE_FORMAT_EXTENSIBLE float file byte by byte (wavefile cannot write one).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefilePkg from 'wavefile';
import { encodePcm16, fromInt16, readPcm16, readWavMono, toInt16, writePcm16 } from '../../src/data/wav.js';
import { HilError } from '../../src/util/errors.js';
import { rng } from '../support/speechlike.js';

const { WaveFile } = wavefilePkg;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-wav-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeWav(name: string, channels: number, rate: number, bitDepth: string, samples: number[] | number[][]): string {
  const w = new WaveFile();
  w.fromScratch(channels, rate, bitDepth, samples);
  const path = join(dir, name);
  writeFileSync(path, w.toBuffer());
  return path;
}

/** A mono WAVE_FORMAT_EXTENSIBLE file with 32-bit float samples (KSDATAFORMAT_SUBTYPE_IEEE_FLOAT). */
function extensibleFloatWav(samples: number[], rate: number): Uint8Array {
  const dataBytes = samples.length * 4;
  const buf = new DataView(new ArrayBuffer(12 + 8 + 40 + 8 + dataBytes));
  const ascii = (o: number, s: string) => [...s].forEach((ch, i) => buf.setUint8(o + i, ch.charCodeAt(0)));
  ascii(0, 'RIFF');
  buf.setUint32(4, buf.byteLength - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  buf.setUint32(16, 40, true);
  buf.setUint16(20, 0xfffe, true); // WAVE_FORMAT_EXTENSIBLE
  buf.setUint16(22, 1, true); // channels
  buf.setUint32(24, rate, true);
  buf.setUint32(28, rate * 4, true); // byte rate
  buf.setUint16(32, 4, true); // block align
  buf.setUint16(34, 32, true); // bits per sample
  buf.setUint16(36, 22, true); // cbSize
  buf.setUint16(38, 32, true); // valid bits
  buf.setUint32(40, 4, true); // channel mask: front centre
  // GUID 00000003-0000-0010-8000-00aa00389b71
  buf.setUint32(44, 3, true);
  buf.setUint16(48, 0, true);
  buf.setUint16(50, 0x10, true);
  [0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71].forEach((b, i) => buf.setUint8(52 + i, b));
  ascii(60, 'data');
  buf.setUint32(64, dataBytes, true);
  samples.forEach((v, i) => buf.setFloat32(68 + 4 * i, v, true));
  return new Uint8Array(buf.buffer);
}

const throwsHil = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HilError, `expected a HilError, got ${String(e)}`);
    assert.match(e.line(), pattern);
    assert.ok(!e.line().includes('\n'), 'one line');
    return true;
  });

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('wav: exact reading', () => {
  it('int16 round-trips exactly through a file, extremes included', () => {
    const r = rng('wav-int16');
    const samples = new Int16Array(4000);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.floor(r() * 65536) - 32768;
    samples.set([-32768, 32767, 0, 1, -1, 16384, -16384], 0);
    const path = join(dir, 'rt16.wav');
    writePcm16(path, samples, 16000);
    const back = readPcm16(path, 16000);
    assert.equal(back.converted, false);
    assert.deepEqual(back.samples, samples);
    const mono = readWavMono(path);
    assert.deepEqual(mono.source, { sampleRate: 16000, channels: 1, bitDepth: '16' });
    assert.deepEqual(mono.samples, fromInt16(samples));
    assert.deepEqual(toInt16(fromInt16(samples)), samples);
  });

  it('8-bit unsigned PCM is (v − 128) / 128', () => {
    const path = writeWav('u8.wav', 1, 8000, '8', [0, 64, 128, 192, 255]);
    const a = readWavMono(path);
    assert.deepEqual(Array.from(a.samples), [-1, -0.5, 0, 0.5, 127 / 128]);
    assert.equal(a.source.bitDepth, '8');
  });

  it('24-bit PCM is v / 2^23, sign included', () => {
    const ints = [-8388608, -1, 0, 1, 4194304, 8388607, -1234567];
    const a = readWavMono(writeWav('s24.wav', 1, 48000, '24', ints));
    assert.deepEqual(Array.from(a.samples), ints.map((v) => v / 8388608));
    assert.equal(a.source.bitDepth, '24');
  });

  it('32-bit integer PCM is v / 2^31', () => {
    const ints = [-2147483648, -1, 0, 1, 1073741824, 2147483647, 123456789];
    const a = readWavMono(writeWav('s32.wav', 1, 16000, '32', ints));
    assert.deepEqual(Array.from(a.samples), ints.map((v) => v / 2147483648));
  });

  it('32-bit float is read as is, plain and WAVE_FORMAT_EXTENSIBLE', () => {
    const values = [-1, -0.25, 0, 0.1, 0.999, 1e-6];
    const plain = readWavMono(writeWav('f32.wav', 1, 16000, '32f', values));
    assert.deepEqual(Array.from(plain.samples), values.map(Math.fround));
    assert.equal(plain.source.bitDepth, '32f');
    const path = join(dir, 'ext-f32.wav');
    writeFileSync(path, extensibleFloatWav(values, 22050));
    const ext = readWavMono(path);
    assert.deepEqual(Array.from(ext.samples), values.map(Math.fround));
    assert.deepEqual(ext.source, { sampleRate: 22050, channels: 1, bitDepth: '32f' });
  });

  it('stereo is averaged to mono', () => {
    const left = [1000, -32768, 32767, 0, 7];
    const right = [-2000, -32768, 32767, 300, 8];
    const a = readWavMono(writeWav('stereo.wav', 2, 16000, '16', [left, right]));
    assert.equal(a.source.channels, 2);
    assert.deepEqual(Array.from(a.samples), left.map((l, i) => (l + right[i]) / 2 / 32768));
    const pcm = readPcm16(join(dir, 'stereo.wav'), 16000);
    assert.equal(pcm.converted, true);
    assert.deepEqual(Array.from(pcm.samples), [-500, -32768, 32767, 150, 8]);
  });
});

/** Least-squares fit of a·cos + b·sin at `hz`; returns the fit's amplitude and its residual in dB below it. */
function toneFit(x: Float64Array, hz: number, rate: number): { amplitude: number; residualDb: number } {
  let cc = 0, ss = 0, cs = 0, xc = 0, xs = 0;
  for (let i = 0; i < x.length; i++) {
    const c = Math.cos((2 * Math.PI * hz * i) / rate), s = Math.sin((2 * Math.PI * hz * i) / rate);
    cc += c * c; ss += s * s; cs += c * s; xc += x[i] * c; xs += x[i] * s;
  }
  const det = cc * ss - cs * cs;
  const a = (xc * ss - xs * cs) / det, b = (xs * cc - xc * cs) / det;
  let fitE = 0, resE = 0;
  for (let i = 0; i < x.length; i++) {
    const f = a * Math.cos((2 * Math.PI * hz * i) / rate) + b * Math.sin((2 * Math.PI * hz * i) / rate);
    fitE += f * f;
    resE += (x[i] - f) ** 2;
  }
  return { amplitude: Math.hypot(a, b), residualDb: 10 * Math.log10(fitE / resE) };
}

function tone(hz: number, rate: number, seconds: number, amplitude: number): number[] {
  return Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)));
}

describe('wav: resampling', () => {
  it('44.1 kHz → 16 kHz keeps a 1 kHz tone at 1 kHz and its level', () => {
    const a = readWavMono(writeWav('tone44k.wav', 1, 44100, '16', tone(1000, 44100, 1, 0.5)), 16000);
    assert.equal(a.sampleRate, 16000);
    assert.equal(a.source.sampleRate, 44100);
    assert.equal(a.samples.length, 16000);
    const mid = a.samples.subarray(2000, 14000); // away from the filter's edge transients
    const fit = toneFit(mid, 1000, 16000);
    assert.ok(Math.abs(fit.amplitude - 0.5) < 1e-3, `amplitude ${fit.amplitude}`);
    // int16 input limits this to ~90 dB; a detuning by one part in 44100 (wavefile's resampler) gives ~35 dB.
    assert.ok(fit.residualDb > 80, `a 1 kHz sinusoid explains the output only to ${fit.residualDb.toFixed(1)} dB`);
    assert.ok(toneFit(mid, 1000 * (1 + 1 / 44100), 16000).residualDb < 50, 'the fit resolves a detuning of 1/44100');
  });

  it('44.1 kHz → 16 kHz removes a 10 kHz tone instead of aliasing it to 6 kHz', () => {
    const a = readWavMono(writeWav('tone10k.wav', 1, 44100, '16', tone(10000, 44100, 1, 0.5)), 16000);
    const mid = a.samples.subarray(2000, 14000);
    let e = 0;
    for (const v of mid) e += v * v;
    const rms = Math.sqrt(e / mid.length);
    assert.ok(rms < 0.5 / Math.SQRT2 / 100, `output RMS ${rms}: less than 40 dB of attenuation`);
  });

  it('8 kHz → 16 kHz keeps a 440 Hz tone', () => {
    const a = readWavMono(writeWav('tone8k.wav', 1, 8000, '16', tone(440, 8000, 1, 0.3)), 16000);
    assert.equal(a.samples.length, 16000);
    const fit = toneFit(a.samples.subarray(2000, 14000), 440, 16000);
    assert.ok(Math.abs(fit.amplitude - 0.3) < 1e-3, `amplitude ${fit.amplitude}`);
    assert.ok(fit.residualDb > 80, `residual ${fit.residualDb.toFixed(1)} dB`);
  });

  it('float input above full scale is resampled without clipping', () => {
    const rate = 22050;
    const x = Array.from({ length: 11025 }, (_, i) => 1.5 * Math.sin((2 * Math.PI * 300 * i) / rate));
    const a = readWavMono(writeWav('loud.wav', 1, rate, '32f', x), 16000);
    assert.equal(a.samples.length, 8000);
    const fit = toneFit(a.samples.subarray(1000, 7000), 300, 16000);
    assert.ok(Math.abs(fit.amplitude - 1.5) < 1e-3, `amplitude ${fit.amplitude}`);
    assert.ok(fit.residualDb > 80, `residual ${fit.residualDb.toFixed(1)} dB`);
  });
});

describe('wav: errors name the file', () => {
  const good = () => encodePcm16(Int16Array.from({ length: 1000 }, (_, i) => (i * 37) % 2000 - 1000), 16000);

  it('a file cut short', () => {
    const bytes = good();
    const path = join(dir, 'cut.wav');
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    throwsHil(() => readWavMono(path), new RegExp(`^${escapeRegExp(path)} is truncated: its data chunk declares 2000 bytes, the file holds 1900`));
    writeFileSync(path, bytes.subarray(0, bytes.length - 1));
    throwsHil(() => readPcm16(path, 16000), new RegExp(`^${escapeRegExp(path)} is truncated`));
  });

  it('a file cut inside its header', () => {
    const path = join(dir, 'cut-header.wav');
    writeFileSync(path, good().subarray(0, 30));
    throwsHil(() => readWavMono(path), new RegExp(`^${escapeRegExp(path)} is not a readable WAV file: .*\\(convert it`));
  });

  it('a file that is not a WAV', () => {
    const path = join(dir, 'notes.wav');
    writeFileSync(path, 'these are notes, not audio\n'.repeat(10));
    throwsHil(() => readWavMono(path), new RegExp(`^${escapeRegExp(path)} is not a readable WAV file`));
    const empty = join(dir, 'empty.wav');
    writeFileSync(empty, '');
    throwsHil(() => readWavMono(empty), new RegExp(`^${escapeRegExp(empty)} is not a readable WAV file`));
  });

  it('a missing file', () => {
    const path = join(dir, 'absent.wav');
    throwsHil(() => readWavMono(path), new RegExp(`^cannot read ${escapeRegExp(path)}: ENOENT`));
  });

  it('an encoding hil does not decode (A-law)', () => {
    const w = new WaveFile();
    w.fromScratch(1, 8000, '16', [0, 1000, -1000, 2000]);
    w.toALaw();
    const path = join(dir, 'alaw.wav');
    writeFileSync(path, w.toBuffer());
    throwsHil(() => readWavMono(path), new RegExp(`^${escapeRegExp(path)}: unsupported WAV encoding \\(format code 6, 8 bits\\).*sox`));
  });

  it('written files are complete WAVs that wavefile reads back', () => {
    const samples = Int16Array.from([5, -5, 32767, -32768]);
    const path = join(dir, 'out.wav');
    writePcm16(path, samples, 16000);
    const w = new WaveFile();
    w.fromBuffer(readFileSync(path));
    assert.deepEqual(Array.from(w.getSamples(false, Float64Array) as unknown as Float64Array), [5, -5, 32767, -32768]);
  });
});
