/**
 * sox as a subprocess: every decode, resample, pitch/speed change and noise synthesis of the corpus goes
 * through here and comes back as mono float32 at the corpus rate. sox runs with `-R` (repeatable: fixed
 * seeds for its noise generators) and `-D` (no dither), without which two runs differ in their low bits.
 */
import { spawn } from 'node:child_process';

export const CORPUS_RATE = 16000;

/** sox could not read or convert an input; `reason` is sox's own message. */
export class AudioDecodeError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'AudioDecodeError';
  }
}

export interface SoxInput {
  /** A file sox reads, or null for its null input (`-n`, for synthesis). */
  file: string | null;
  /** Effects after the input; a very-high-quality resample to the corpus rate always follows. */
  effects?: string[];
  /** Output channels are averaged to one by default; a synthesis with several generators sets `channels`. */
  channels?: number;
}

/** Runs sox and returns mono float32 samples at CORPUS_RATE. */
export function soxToFloat(input: SoxInput): Promise<Float32Array> {
  const inSpec = input.file === null ? ['-r', String(CORPUS_RATE), '-c', String(input.channels ?? 1), '-n'] : [input.file];
  const args = ['-R', '-D', '-V2', ...inSpec, '-t', 'raw', '-e', 'floating-point', '-b', '32', '-c', '1', '-r', String(CORPUS_RATE), '-', ...(input.effects ?? []), 'rate', '-v', String(CORPUS_RATE)];
  return new Promise((resolve, reject) => {
    const proc = spawn('sox', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => chunks.push(c));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', (e) => reject(new AudioDecodeError(input.file ?? 'sox', `cannot run sox: ${e.message}`)));
    proc.on('close', (code) => {
      const lines = stderr.split('\n').filter((l) => l.trim());
      // sox decodes a file cut short (an interrupted copy) with only a warning; hil refuses it.
      const truncated = lines.find((l) => /premature EOF/i.test(l));
      if (code !== 0 || truncated) {
        const line = truncated ?? lines.find((l) => /FAIL/.test(l)) ?? lines[0] ?? `sox exited with code ${code}`;
        reject(new AudioDecodeError(input.file ?? 'sox', line.replace(/^sox (FAIL|WARN) [\w-]+: /, '').trim()));
        return;
      }
      const bytes = Buffer.concat(chunks);
      // Copy into a fresh, aligned buffer: a Buffer's byteOffset need not be a multiple of 4.
      const out = new Float32Array(bytes.length >> 2);
      new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
      resolve(out);
    });
  });
}
