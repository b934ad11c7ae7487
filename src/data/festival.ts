/**
 * A long-lived festival process fed one utterance at a time. Starting festival and loading a voice costs
 * about a quarter of a second, four times the synthesis of a short sentence, so each TTS worker keeps its
 * own process open. After each utterance festival prints a marker line; a failed command prints its error on
 * stderr and festival carries on with the next, so success is judged by the output file, not the marker.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';

const UTTERANCE_TIMEOUT_MS = 60_000;

export interface FestivalRequest {
  /** Festival's voice function without the `voice_` prefix, e.g. `kal_diphone`. */
  voice: string;
  text: string;
  /** Speaking-rate factor (> 1 is faster). */
  rate: number;
  out: string;
}

function schemeString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Rate control differs per voice type: HTS voices take hts_engine's `-r`, diphone voices a duration stretch. */
function rateCommand(voice: string, rate: number): string {
  if (voice.endsWith('_hts')) {
    return `(set! hts_engine_params (append ${voice}::hts_engine_params (list (list "-r" ${rate.toFixed(4)}))))`;
  }
  return `(Parameter.set 'Duration_Stretch ${(1 / rate).toFixed(4)})`;
}

export class FestivalSession {
  private proc: ChildProcessWithoutNullStreams | null = null;
  private stdoutBuf = '';
  private stderrBuf = '';
  private waiting: { marker: string; resolve: () => void; reject: (e: Error) => void } | null = null;
  private currentVoice = '';
  private counter = 0;

  private start(): ChildProcessWithoutNullStreams {
    const proc = spawn('festival', ['--pipe'], { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdout.on('data', (c: Buffer) => {
      this.stdoutBuf += c.toString();
      const w = this.waiting;
      if (w && this.stdoutBuf.includes(w.marker)) {
        this.stdoutBuf = '';
        this.waiting = null;
        w.resolve();
      }
    });
    proc.stderr.on('data', (c: Buffer) => (this.stderrBuf += c.toString()));
    const fail = (why: string) => {
      this.proc = null;
      this.currentVoice = '';
      const w = this.waiting;
      this.waiting = null;
      w?.reject(new Error(`festival ${why}: ${this.stderrBuf.trim().split('\n').slice(-2).join(' ')}`));
    };
    proc.on('error', (e) => fail(`could not start (${e.message})`));
    proc.on('exit', (code) => fail(`exited with code ${code}`));
    this.proc = proc;
    return proc;
  }

  async synth(req: FestivalRequest): Promise<void> {
    rmSync(req.out, { force: true }); // a stale file from an earlier utterance must not pass for this one
    const proc = this.proc ?? this.start();
    const marker = `HIL-DONE-${++this.counter}`;
    this.stderrBuf = '';
    const lines: string[] = [];
    // Selecting a voice resets its parameters, so the rate is set after it, for every utterance.
    if (this.currentVoice !== req.voice) lines.push(`(voice_${req.voice})`);
    this.currentVoice = req.voice;
    lines.push(rateCommand(req.voice, req.rate));
    lines.push(`(utt.save.wave (utt.synth (Utterance Text ${schemeString(req.text)})) ${schemeString(req.out)} 'riff)`);
    lines.push(`(format t "${marker}\\n")`, '(fflush nil)');
    const done = new Promise<void>((resolve, reject) => (this.waiting = { marker, resolve, reject }));
    proc.stdin.write(lines.join('\n') + '\n');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.close();
        reject(new Error(`festival did not answer within ${UTTERANCE_TIMEOUT_MS / 1000} s`));
      }, UTTERANCE_TIMEOUT_MS);
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (!existsSync(req.out) || statSync(req.out).size <= 44) {
      throw new Error(`festival wrote no audio for voice ${req.voice}: ${this.stderrBuf.trim().split('\n')[0] ?? 'no message'}`);
    }
  }

  close(): void {
    const proc = this.proc;
    this.proc = null;
    this.currentVoice = '';
    if (proc) {
      proc.removeAllListeners('exit');
      proc.stdin.end();
      proc.kill();
    }
  }
}
