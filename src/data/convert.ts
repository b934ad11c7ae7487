/**
 * Converting a recorded or user-supplied noise or speech file to corpus audio: any format sox reads, any
 * rate, depth and channel count, to 16 kHz mono float. Unreadable files raise AudioDecodeError naming the
 * file and sox's reason; the build records them and carries on with the rest.
 */
import { spawn } from 'node:child_process';
import { activeRange, peak } from './audio.js';
import { AudioDecodeError, CORPUS_RATE, soxToFloat } from './sox.js';

export interface Probe {
  sampleRate: number;
  channels: number;
  seconds: number;
}

/** What soxi says about a file; AudioDecodeError when it cannot open it. */
export function probe(path: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const proc = spawn('soxi', [path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.on('error', (e) => reject(new AudioDecodeError(path, `cannot run soxi: ${e.message}`)));
    proc.on('close', (code) => {
      const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(out)?.[1]?.trim();
      const rate = Number(field('Sample Rate'));
      const channels = Number(field('Channels'));
      const samples = Number(/=\s*(\d+)\s*samples/.exec(field('Duration') ?? '')?.[1]);
      if (code !== 0 || !(rate > 0) || !(channels > 0)) {
        const line = err.split('\n').find((l) => l.trim()) ?? `soxi exited with code ${code}`;
        reject(new AudioDecodeError(path, line.replace(/^soxi FAIL \w+: /, '').replace(/can't open input file `[^']*': /, '').trim()));
        return;
      }
      resolve({ sampleRate: rate, channels, seconds: samples / rate });
    });
  });
}

export interface Converted {
  /** 16 kHz mono float. */
  audio: Float32Array;
  source: Probe;
  /** Half the source rate when the source was sampled below 16 kHz: nothing above it is real content. */
  bandLimitedHz?: number;
}

/** Decodes, mixes to mono and resamples; silent or empty files are refused like unreadable ones. */
export async function convertFile(path: string, opts: { trimSilence?: boolean } = {}): Promise<Converted> {
  const source = await probe(path);
  let audio = await soxToFloat({ file: path });
  if (audio.length === 0 || peak(audio) === 0) throw new AudioDecodeError(path, audio.length === 0 ? 'holds no samples' : 'is digital silence throughout');
  if (opts.trimSilence) {
    // Game sounds are often padded with digital silence; it would make a noise segment silent.
    const a = activeRange(audio, -60)!;
    audio = audio.subarray(a.start, a.end);
  }
  const bandLimitedHz = source.sampleRate < CORPUS_RATE ? Math.floor(source.sampleRate / 2) : undefined;
  return { audio, source, bandLimitedHz };
}
