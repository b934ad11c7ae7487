/**
 * One TTS worker: synthesises an utterance with flite, festival or eSpeak NG and returns it as float
 * samples at 16 kHz, with the utterance's pitch shift and speed warp applied by sox. The speaking rate is
 * the engine's own control (it changes durations, not pitch); pitch is a sox `pitch` shift in cents; the
 * warp is a sox `speed` change (duration and pitch together, like a tape running slightly fast or slow).
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FestivalSession } from './festival.js';
import { soxToFloat } from './sox.js';
import type { Voice } from './voices.js';

export interface SpeechParams {
  voice: Voice;
  text: string;
  /** Speaking-rate factor, > 1 faster. */
  rate: number;
  /** Pitch shift in cents. */
  pitch: number;
  /** Speed warp factor (sox `speed`). */
  warp: number;
  /** eSpeak NG accent (its voice name), e.g. `en-gb-scotland`. */
  accent?: string;
}

/** eSpeak NG's default speaking rate in words per minute; `rate` scales it. */
const ESPEAK_WPM = 175;

function run(cmd: string, args: string[], stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    proc.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with code ${code}: ${stderr.trim().split('\n')[0] ?? ''}`))));
    if (stdin !== undefined) proc.stdin!.end(stdin);
  });
}

export class TtsWorker {
  private festival = new FestivalSession();
  private readonly wav: string;

  constructor(tmpDir: string, lane: number) {
    this.wav = join(tmpDir, `tts-${lane}.wav`);
  }

  /** The engine's raw output, in the engine's own format, at `this.wav`. */
  private async engine(p: SpeechParams): Promise<void> {
    rmSync(this.wav, { force: true });
    const v = p.voice;
    switch (v.engine) {
      case 'flite':
        await run('flite', ['-voice', v.engineVoice, '--setf', `duration_stretch=${(1 / p.rate).toFixed(4)}`, '-t', p.text, '-o', this.wav]);
        break;
      case 'espeak-ng':
        await run('espeak-ng', ['-v', `${p.accent ?? 'en-us'}+${v.engineVoice}`, '-s', String(Math.round(ESPEAK_WPM * p.rate)), '-w', this.wav, '--stdin'], p.text);
        break;
      case 'festival': {
        const req = { voice: v.engineVoice, text: p.text, rate: p.rate, out: this.wav };
        try {
          await this.festival.synth(req);
        } catch {
          // A festival process that died or hung is replaced once; the same request then runs in a fresh one.
          this.festival.close();
          await this.festival.synth(req);
        }
        break;
      }
    }
    // flite exits 0 even when it cannot find a voice; an empty or missing file is the only sign.
    if (!existsSync(this.wav) || statSync(this.wav).size <= 44) throw new Error(`${v.engine} produced no audio for voice ${v.engineVoice}`);
  }

  async synth(p: SpeechParams): Promise<Float32Array> {
    await this.engine(p);
    const effects: string[] = [];
    if (p.pitch !== 0) effects.push('pitch', String(p.pitch));
    if (p.warp !== 1) effects.push('speed', String(p.warp));
    return soxToFloat({ file: this.wav, effects });
  }

  close(): void {
    this.festival.close();
    rmSync(this.wav, { force: true });
  }
}
