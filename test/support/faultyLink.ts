/**
 * The real sim firmware behind a fault-injecting pseudo-terminal (test/support/faulty_link.py): the host
 * opens the proxy's pty, the proxy the sim's, and every byte between them may be dropped, flipped,
 * duplicated or delayed at a set rate and seed. Used by test/faults and scripts/bench-faults.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { makeFirmware } from '../../src/board/firmware.js';
import { Engine, type CostParams } from '../../src/engine/index.js';
import { readBoardFile, resolveBoardPath } from '../../src/board/registry.js';
import { Session, type LinkTiming } from '../../src/link/session.js';
import { openSerialTransport, type LinkLog } from '../../src/link/transport.js';

const PROXY = new URL('./faulty_link.py', import.meta.url).pathname;

export interface FaultCounts {
  bytes: number;
  drop: number;
  flip: number;
  dup: number;
  delay: number;
}

export interface FaultySim {
  session: Session;
  link: LinkTiming;
  /** Bytes seen and faults injected, per direction. */
  faults(): Promise<{ to_host: FaultCounts; to_device: FaultCounts }>;
  close(): Promise<void>;
}

export interface FaultySimOptions {
  /** Probability of a fault per byte, each direction. */
  rate: number;
  seed: number;
  /** A delay fault stalls the line for up to this long. */
  maxDelayMs?: number;
  /** Overrides of boards/sim.json's link section. */
  link?: Partial<LinkTiming>;
  log?: LinkLog;
}

/** Starts a process and waits for its "PTY <path>" line. */
async function startWithPty(cmd: string, args: string[], what: string): Promise<{ child: ChildProcess; path: string; lines: Interface }> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const path = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no PTY line within 10 s`)), 10_000);
    child.once('exit', (code, signal) => reject(new Error(`${what} exited (${code ?? signal}) before its PTY line`)));
    lines.on('line', function onLine(l) {
      const m = /^PTY (\S+)$/.exec(l);
      if (!m) return;
      clearTimeout(timer);
      lines.off('line', onLine);
      resolve(m[1]!);
    });
  });
  return { child, path, lines };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}

export async function openFaultySim(opts: FaultySimOptions): Promise<FaultySim> {
  const file = readBoardFile(resolveBoardPath('sim'));
  const link: LinkTiming = { ...file.link, ...opts.link };
  const image = await makeFirmware(file);
  const dir = mkdtempSync(join(tmpdir(), 'hil-faults-'));
  const flash = join(dir, 'flash.bin');
  writeFileSync(flash, new Uint8Array(0)); // nothing placed: models travel over the faulty link
  const launch = file.launch as { partition_bytes?: number; arena_bytes?: number; stack_bytes?: number };
  const args = ['--flash', flash, '--board', 'sim', '--clock-hz', String(file.accelerator.clock_hz)];
  if (launch.partition_bytes) args.push('--partition-bytes', String(launch.partition_bytes));
  if (launch.arena_bytes) args.push('--arena-bytes', String(launch.arena_bytes));
  if (launch.stack_bytes) args.push('--stack-bytes', String(launch.stack_bytes));
  const sim = await startWithPty(image, args, 'the sim');
  const proxyArgs = [PROXY, '--device', sim.path, '--rate', String(opts.rate), '--seed', String(opts.seed), '--max-delay-ms', String(opts.maxDelayMs ?? 20)];
  let proxy: Awaited<ReturnType<typeof startWithPty>>;
  try {
    proxy = await startWithPty('python3', proxyArgs, 'the fault proxy');
  } catch (e) {
    await stop(sim.child);
    throw e;
  }
  const cleanup = async () => {
    proxy.child.stdin!.end();
    await stop(proxy.child);
    await stop(sim.child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const transport = await openSerialTransport(proxy.path, opts.log);
    const banner = await transport.readBanner({ bannerMs: link.banner_ms, startMs: link.start_ms });
    const session = new Session(transport, banner, { link, log: opts.log });
    return {
      session,
      link,
      faults: () =>
        new Promise((resolve) => {
          proxy.lines.once('line', (l) => resolve(JSON.parse(l)));
          proxy.child.stdin!.write('stats\n');
        }),
      close: async () => {
        await session.close();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

export interface StreamOutcome {
  frames: number;
  /** Frames whose output and counters equal the host engine's. */
  bitExactFrames: number;
  /** Clips that failed on the link, with why (after their retries). */
  lostClips: string[];
  /** Clips run again from STREAM_RESET after a failure. */
  retriedClips: number;
  ms: number;
  /** Application bytes carried (request samples in, reply samples out): what goodput counts. */
  payloadBytes: number;
}

/**
 * Streams `clips` clips of `framesPerClip` frames through the session's active model, each from
 * STREAM_RESET with up to four frames in flight as `hil run` does, and compares every frame with the
 * host engine run on the same input. A clip that fails on the link is run again from STREAM_RESET up to
 * `clipRetries` times (the session refuses to go on from a stream state it cannot know), else recorded.
 */
export async function streamClips(session: Session, blob: Uint8Array, clips: number, framesPerClip: number, cost: CostParams, clipRetries = 0): Promise<StreamOutcome> {
  const engine = new Engine(blob);
  engine.setCost(cost);
  const hop = engine.blob.hop;
  const out: StreamOutcome = { frames: 0, bitExactFrames: 0, lostClips: [], retriedClips: 0, ms: 0, payloadBytes: 0 };
  const t0 = performance.now();
  for (let c = 0, attempt = 0; c < clips; attempt++) {
    const input = clipInput(c, framesPerClip * hop);
    engine.reset();
    const before = { frames: out.frames, bitExact: out.bitExactFrames, bytes: out.payloadBytes };
    try {
      await session.resetStream();
      const inFlight = new Set<Promise<void>>();
      let failed: Error | null = null;
      for (let f = 0; f < framesPerClip && !failed; f++) {
        const frame = input.subarray(f * hop, (f + 1) * hop);
        const want = engine.runFrame(frame);
        const wantOut = Int16Array.from(want.output);
        const wantMacs = want.counters.macs;
        const p: Promise<void> = session.runFrame(f, frame).then(
          (r) => {
            inFlight.delete(p);
            out.frames++;
            out.payloadBytes += 4 * hop;
            if (r.macs === wantMacs && r.output.every((v, i) => v === wantOut[i])) out.bitExactFrames++;
          },
          (e: Error) => {
            failed ??= e;
          },
        );
        inFlight.add(p);
        if (inFlight.size >= 4) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      if (failed) throw failed;
    } catch (e) {
      if (attempt < clipRetries) {
        // The clip's frames so far are thrown away with it.
        out.frames = before.frames;
        out.bitExactFrames = before.bitExact;
        out.payloadBytes = before.bytes;
        out.retriedClips++;
        continue;
      }
      out.lostClips.push(`clip ${c}: ${(e as Error).message}`);
    }
    c++;
    attempt = -1;
  }
  out.ms = performance.now() - t0;
  return out;
}

/** Speech-band test input: a few drifting tones and a little noise, different per clip. */
function clipInput(clip: number, samples: number): Int16Array {
  const x = new Int16Array(samples);
  let seed = 12345 + clip * 7919;
  for (let i = 0; i < samples; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const t = i / 16000;
    const v = 0.3 * Math.sin(2 * Math.PI * (220 + 40 * clip) * t) + 0.2 * Math.sin(2 * Math.PI * 1375 * t * (1 + 0.1 * Math.sin(t))) + 0.05 * ((seed / 2 ** 32) * 2 - 1);
    x[i] = Math.round(v * 20000);
  }
  return x;
}
