/**
 * WAV input and output, in the shapes hil uses: mono float64 for analysis, mono int16 for the device.
 *
 * wavefile parses the container (RIFF/RIFX chunks); the sample words are decoded here and resampling is
 * SoX's (see resample()).
 * wavefile's own int → float conversion divides positive samples by 2^(b−1) − 1 and negative ones by
 * 2^(b−1), which bends the waveform at zero and breaks the int16 round trip, and it reads
 * WAVE_FORMAT_EXTENSIBLE float data as integers. hil uses the common symmetric convention instead
 * (soundfile, scipy, sox): integer PCM of b bits is value / 2^(b−1), 8-bit is (value − 128) / 128, so
 * int16 → float → int16 is exact (`toInt16(fromInt16(x))` is x). The chunks are read from wavefile's
 * untyped fields (WavInternals), so the package is pinned and test/unit/pinned-internals.test.ts checks them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import wavefilePkg from 'wavefile';
import { HilError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fsx.js';

const { WaveFile } = wavefilePkg;
type Wav = InstanceType<typeof WaveFile>;

export interface MonoAudio {
  sampleRate: number;
  samples: Float64Array; // mono, nominally in [-1, 1)
  /** What the file was before conversion, for messages and manifests. */
  source: { sampleRate: number; channels: number; bitDepth: string };
}

const CONVERT_HINT = 'convert it to 16-bit PCM WAV, e.g. sox in.wav -b 16 out.wav';
const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

interface WavInternals {
  container: string;
  fmt: { audioFormat: number; numChannels: number; sampleRate: number; blockAlign: number; bitsPerSample: number; subformat: number[] };
  data: { chunkSize: number; samples: Uint8Array };
}

interface Decoded {
  sampleRate: number;
  channels: number;
  bitDepth: string; // wavefile's notation: '8', '16', '24', '32', '32f', '64'
  interleaved: Float64Array;
}

function decode(path: string): Decoded {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new HilError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let wav: Wav;
  try {
    wav = new WaveFile();
    wav.fromBuffer(bytes);
  } catch (e) {
    throw new HilError(`${path} is not a readable WAV file: ${(e as Error).message}`, CONVERT_HINT);
  }
  const { container, fmt, data } = wav as unknown as WavInternals;
  const code = fmt.audioFormat === WAVE_FORMAT_EXTENSIBLE ? (fmt.subformat[0] ?? 0) : fmt.audioFormat;
  const bits = fmt.bitsPerSample;
  const isFloat = code === WAVE_FORMAT_IEEE_FLOAT && (bits === 32 || bits === 64);
  const isInt = code === WAVE_FORMAT_PCM && (bits === 8 || bits === 16 || bits === 24 || bits === 32);
  if (!isFloat && !isInt) throw new HilError(`${path}: unsupported WAV encoding (format code ${code}, ${bits} bits)`, CONVERT_HINT);
  const channels = fmt.numChannels;
  const bytesPerSample = bits / 8;
  if (!channels || !fmt.sampleRate || fmt.blockAlign !== channels * bytesPerSample) {
    throw new HilError(`${path} has an inconsistent format chunk (${channels} channels, ${fmt.sampleRate} Hz, block ${fmt.blockAlign} bytes)`, CONVERT_HINT);
  }
  // A file cut short (an interrupted copy or recording) declares more data than it holds. RF64 keeps
  // the real size elsewhere (ds64), so its 32-bit field is no evidence.
  const got = data.samples.length;
  if ((container !== 'RF64' && got < data.chunkSize) || got % fmt.blockAlign !== 0) {
    throw new HilError(`${path} is truncated: its data chunk declares ${data.chunkSize} bytes, the file holds ${got}`, 'recreate or re-copy the file');
  }
  if (got === 0) throw new HilError(`${path} holds no audio (its data chunk is empty)`, 'record or copy the clip again, or remove it');
  const interleaved = decodeSamples(data.samples, bits, isFloat, container === 'RIFX');
  // Only float files can hold NaN or ±Inf; every later stage (int16 conversion, resampling, metrics)
  // would turn one into a plausible-looking number, so it is refused here, where the file is named.
  if (isFloat) {
    for (let i = 0; i < interleaved.length; i++) {
      if (!Number.isFinite(interleaved[i])) {
        const at = channels > 1 ? `frame ${Math.floor(i / channels)}, channel ${(i % channels) + 1}` : `sample ${i}`;
        throw new HilError(`${path} has a non-finite sample (${interleaved[i]}) at ${at}`, 'fix or re-export the file; audio samples must be finite numbers');
      }
    }
  }
  return { sampleRate: fmt.sampleRate, channels, bitDepth: isFloat ? (bits === 32 ? '32f' : '64') : String(bits), interleaved };
}

function decodeSamples(bytes: Uint8Array, bits: number, isFloat: boolean, bigEndian: boolean): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const step = bits / 8;
  const n = bytes.byteLength / step;
  const le = !bigEndian;
  const out = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += step) {
    if (isFloat) out[i] = bits === 32 ? view.getFloat32(o, le) : view.getFloat64(o, le);
    else if (bits === 8) out[i] = (view.getUint8(o) - 128) / 128;
    else if (bits === 16) out[i] = view.getInt16(o, le) / 32768;
    else if (bits === 32) out[i] = view.getInt32(o, le) / 2147483648;
    else {
      const [lo, mid, hi] = le ? [bytes[o], bytes[o + 1], view.getInt8(o + 2)] : [bytes[o + 2], bytes[o + 1], view.getInt8(o)];
      out[i] = (hi * 65536 + mid * 256 + lo) / 8388608;
    }
  }
  return out;
}

/** Reads any PCM/float WAV, averages the channels to mono and, when asked, resamples. */
export function readWavMono(path: string, targetRate?: number): MonoAudio {
  const d = decode(path);
  const frames = d.interleaved.length / d.channels;
  let samples: Float64Array = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < d.channels; c++) sum += d.interleaved[f * d.channels + c];
    samples[f] = sum / d.channels;
  }
  let sampleRate = d.sampleRate;
  if (targetRate && targetRate !== d.sampleRate) {
    samples = resample(samples, d.sampleRate, targetRate, path);
    sampleRate = targetRate;
  }
  return { sampleRate, samples, source: { sampleRate: d.sampleRate, channels: d.channels, bitDepth: d.bitDepth } };
}

/**
 * Resampling is SoX's `rate -v` (very high quality, linear phase, its delay compensated), a core
 * dependency already (scripts/deps.json). wavefile's resampler is not used: it maps output sample m to
 * input position m·(N−1)/M instead of m·N/M, so every frequency comes out scaled by about N/(N−1), a
 * length-dependent detuning, and its 12-tap Gaussian-windowed sinc leaves distortion near −30 dB.
 * SoX computes in 32-bit integers internally and would clip above full scale, so the signal goes in
 * normalised to a peak of 0.5 (room for the filter's overshoot) and is scaled back afterwards.
 */
function resample(samples: Float64Array, from: number, to: number, path: string): Float64Array {
  let peak = 0;
  for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
  if (peak === 0) return new Float64Array(Math.round((samples.length * to) / from));
  const gain = 0.5 / peak;
  const input = samples.map((v) => v * gain);
  const args = ['-D', '-V1', '-t', 'f64', '-r', String(from), '-c', '1', '-', '-t', 'f64', '-', 'rate', '-v', String(to)];
  const r = spawnSync('sox', args, { input: new Uint8Array(input.buffer), maxBuffer: 8 * input.length * Math.ceil(to / from + 1) + 4096 });
  if (r.error) {
    const why = (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'sox is not installed' : r.error.message;
    throw new HilError(`${path}: cannot resample from ${from} Hz to ${to} Hz: ${why}`, 'apt-get install sox (see hil doctor), or convert the file to the target rate');
  }
  if (r.status !== 0) {
    throw new HilError(`${path}: sox failed to resample from ${from} Hz to ${to} Hz: ${String(r.stderr).trim().split('\n')[0]}`, CONVERT_HINT);
  }
  const out = new Float64Array(r.stdout.byteLength / 8);
  new Uint8Array(out.buffer).set(r.stdout);
  for (let i = 0; i < out.length; i++) out[i] /= gain;
  return out;
}

/** float [-1, 1) → int16 with rounding and saturation (the device's input format). */
export function toInt16(samples: Float64Array): Int16Array {
  return toInt16Counted(samples).samples;
}

/** toInt16, also counting the samples that saturated (beyond full scale). */
export function toInt16Counted(samples: Float64Array): { samples: Int16Array; clipped: number } {
  const out = new Int16Array(samples.length);
  let clipped = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i] * 32768);
    if (v > 32767 || v < -32768) clipped++;
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return { samples: out, clipped };
}

export function fromInt16(samples: Int16Array): Float64Array {
  const out = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i] / 32768;
  return out;
}

export interface Pcm16 {
  samples: Int16Array;
  source: MonoAudio['source'];
  converted: boolean;
  /** What was done, e.g. "44100→16000 Hz (sox rate -v); 2→1 channels (mean); 32f→int16"; '' when nothing. */
  conversion: string;
  /** Samples beyond full scale (float input above ±1, or a resampler's overshoot), saturated to int16. */
  clipped: number;
}

/** Reads a WAV as the device sees it: mono int16 at `sampleRate` (converted when the file differs). */
export function readPcm16(path: string, sampleRate: number): Pcm16 {
  const audio = readWavMono(path, sampleRate);
  const s = audio.source;
  const steps: string[] = [];
  if (s.sampleRate !== sampleRate) steps.push(`${s.sampleRate}→${sampleRate} Hz (sox rate -v)`);
  if (s.channels !== 1) steps.push(`${s.channels}→1 channels (mean)`);
  if (s.bitDepth !== '16') steps.push(`${s.bitDepth}→int16`);
  const { samples, clipped } = toInt16Counted(audio.samples);
  return { samples, source: s, converted: steps.length > 0, conversion: steps.join('; '), clipped };
}

export function encodePcm16(samples: Int16Array, sampleRate: number): Uint8Array {
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, '16', samples);
  return wav.toBuffer();
}

export function writePcm16(path: string, samples: Int16Array, sampleRate: number): void {
  writeFileAtomic(path, encodePcm16(samples, sampleRate));
}
