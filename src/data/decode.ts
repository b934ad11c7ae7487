/**
 * Decoding recorded speech at its own rate, and resampling float audio with sox. sox 14.4 reads Vorbis, WAV
 * and FLAC but not raw G.722 (the Asterisk prompts) or Opus (ktuberling's Norwegian Nynorsk words): those
 * go through ffmpeg, which only decodes (G.722 at its 16 kHz, Opus at its 48 kHz); every rate change is sox's
 * very-high-quality `rate -v`, as for the rest of the corpus.
 */
import { spawn } from 'node:child_process';
import { probe } from './convert.js';
import { AudioDecodeError, CORPUS_RATE } from './sox.js';

export interface NativeAudio {
  /** Mono (channels averaged), at `sampleRate`. */
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  decoder: 'sox' | 'ffmpeg';
}

function floats(bytes: Buffer): Float32Array {
  const out = new Float32Array(bytes.length >> 2);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  return out;
}

/** Runs a decoder, feeding `stdin` when given, and returns its stdout as float32. */
function run(cmd: string, args: string[], file: string, stdin?: Float32Array): Promise<Float32Array> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    proc.stdout!.on('data', (c: Buffer) => chunks.push(c));
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', (e) => reject(new AudioDecodeError(file, `cannot run ${cmd}: ${e.message}`)));
    proc.on('close', (code) => {
      const lines = stderr.split('\n').filter((l) => l.trim());
      const bad = lines.find((l) => /premature EOF|Invalid data|error/i.test(l) && !/^sox WARN dither/.test(l));
      if (code !== 0 || (cmd === 'sox' && lines.some((l) => /premature EOF/i.test(l)))) {
        reject(new AudioDecodeError(file, (bad ?? lines[0] ?? `${cmd} exited with code ${code}`).replace(/^sox (FAIL|WARN) [\w-]+: /, '').trim()));
        return;
      }
      resolve(floats(Buffer.concat(chunks)));
    });
    if (stdin) {
      proc.stdin!.on('error', () => {}); // a failing sox closes its stdin early; the close handler reports it
      proc.stdin!.end(Buffer.from(stdin.buffer, stdin.byteOffset, stdin.byteLength));
    }
  });
}

const FFMPEG_FORMATS: Record<string, { inArgs: string[]; rate: number }> = {
  g722: { inArgs: ['-f', 'g722'], rate: 16000 },
  opus: { inArgs: [], rate: 48000 },
};

/** Decodes any file sox or (for .g722 and .opus) ffmpeg reads, keeping its sample rate, channels averaged. */
export async function decodeNative(path: string): Promise<NativeAudio> {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  const ff = FFMPEG_FORMATS[ext];
  if (ff) {
    // No -ar: G.722 and Opus decode at their own rates; ffmpeg only averages the channels (-ac 1).
    const samples = await run('ffmpeg', ['-v', 'error', '-nostdin', ...ff.inArgs, '-i', path, '-ac', '1', '-f', 'f32le', '-acodec', 'pcm_f32le', '-'], path);
    return { samples, sampleRate: ff.rate, channels: 1, decoder: 'ffmpeg' };
  }
  const p = await probe(path);
  const samples = await run('sox', ['-R', '-D', '-V2', path, '-t', 'raw', '-e', 'floating-point', '-b', '32', '-c', '1', '-'], path);
  return { samples, sampleRate: p.sampleRate, channels: p.channels, decoder: 'sox' };
}

/**
 * Float audio at `rate` through sox `effects`, then `rate -v` to `outRate` (the corpus rate by default).
 * `-R -D`: repeatable, no dither. An effect chain that changes the rate itself (a sample-rate round trip)
 * ends at `outRate` all the same.
 */
export function soxFloat(samples: Float32Array | Float64Array, rate: number, effects: string[] = [], outRate = CORPUS_RATE, what = 'audio'): Promise<Float32Array> {
  const input = samples instanceof Float32Array ? samples : Float32Array.from(samples);
  const args = ['-R', '-D', '-V2', '-t', 'raw', '-e', 'floating-point', '-b', '32', '-r', String(rate), '-c', '1', '-', '-t', 'raw', '-e', 'floating-point', '-b', '32', '-c', '1', '-r', String(outRate), '-', ...effects, 'rate', '-v', String(outRate)];
  return run('sox', args, what, input);
}
