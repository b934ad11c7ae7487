/**
 * WAV input and output. Decoding, bit-depth conversion and resampling are wavefile's; this module only
 * fixes the shapes hil uses: mono float64 in [-1, 1) for analysis, mono int16 for the device.
 */
import { readFileSync } from 'node:fs';
import wavefilePkg from 'wavefile';
import { HilError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fsx.js';

const { WaveFile } = wavefilePkg;

export interface MonoAudio {
  sampleRate: number;
  samples: Float64Array; // mono, nominally in [-1, 1)
  /** What the file was before conversion, for messages and manifests. */
  source: { sampleRate: number; channels: number; bitDepth: string };
}

function decode(path: string): InstanceType<typeof WaveFile> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new HilError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const wav = new WaveFile();
    wav.fromBuffer(bytes);
    return wav;
  } catch (e) {
    throw new HilError(`${path} is not a readable WAV file: ${(e as Error).message}`, 'convert it to PCM WAV, e.g. with sox');
  }
}

/** Reads any PCM/float WAV, mixes to mono and, when asked, resamples. */
export function readWavMono(path: string, targetRate?: number): MonoAudio {
  const wav = decode(path);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  const source = { sampleRate: fmt.sampleRate, channels: fmt.numChannels, bitDepth: wav.bitDepth };
  if (!fmt.numChannels || !fmt.sampleRate) throw new HilError(`${path} has no audio format chunk`);
  try {
    if (wav.bitDepth !== '32f') wav.toBitDepth('32f');
    if (targetRate && targetRate !== fmt.sampleRate) wav.toSampleRate(targetRate, { method: 'sinc' });
  } catch (e) {
    throw new HilError(`${path}: cannot convert ${source.bitDepth}-bit audio: ${(e as Error).message}`, 'convert it to 16-bit PCM WAV');
  }
  const channels = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const list = Array.isArray(channels) ? channels : [channels];
  const n = list[0]?.length ?? 0;
  const samples = new Float64Array(n);
  for (const ch of list) for (let i = 0; i < n; i++) samples[i] += ch[i] / list.length;
  return { sampleRate: (wav.fmt as { sampleRate: number }).sampleRate, samples, source };
}

/** float [-1, 1) → int16 with rounding and saturation (the device's input format). */
export function toInt16(samples: Float64Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i] * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

export function fromInt16(samples: Int16Array): Float64Array {
  const out = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i] / 32768;
  return out;
}

/** Reads a WAV as the device sees it: mono int16 at `sampleRate` (converted when the file differs). */
export function readPcm16(path: string, sampleRate: number): { samples: Int16Array; converted: boolean } {
  const audio = readWavMono(path, sampleRate);
  const s = audio.source;
  const converted = s.sampleRate !== sampleRate || s.channels !== 1 || s.bitDepth !== '16';
  return { samples: toInt16(audio.samples), converted };
}

export function encodePcm16(samples: Int16Array, sampleRate: number): Uint8Array {
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, '16', samples);
  return wav.toBuffer();
}

export function writePcm16(path: string, samples: Int16Array, sampleRate: number): void {
  writeFileAtomic(path, encodePcm16(samples, sampleRate));
}
