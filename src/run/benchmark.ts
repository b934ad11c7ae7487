/**
 * One benchmark run: a model on a board over a set of clips. Every clip is streamed frame by frame over
 * the board's serial line; the enhanced audio is what the device returned, checked bit-exact against the
 * host engine, scored against the clean reference, and stored with its latency and memory figures as
 * soon as the clip is done (docs/protocol.md §5).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Board } from '../board/board.js';
import { buildFirmwareImage } from '../board/firmware.js';
import { loadBoard } from '../board/registry.js';
import { ensureCorpus } from '../data/corpus.js';
import { readPcm16, fromInt16, writePcm16, type Pcm16 } from '../data/wav.js';
import { clipToFrames, framesToClip, parseBlob, runClipOnHost, type CostParams, type ModelBlob } from '../engine/index.js';
import { LATENCY_KINDS, LatencyKindCode, type GetStatsReply } from '../link/messages.js';
import { DeviceResetError, LinkNoisyError, StreamStateError } from '../link/errors.js';
import { isPreloadMode, LINK_MODES, linkStatsDelta, samplesCrc32, type FrameResult, type LinkMode, type Session } from '../link/session.js';
import { scorePair } from '../metrics/index.js';
import { SilentEstimateError } from '../metrics/validate.js';
import { checkIdentity } from './identity.js';
import { RunLogs } from './logs.js';
import { resolveModel, type ResolvedModel } from './resolveModel.js';
import type { ClipInput, ClipResult, Provenance, ResultsFile } from '../report/resultsSchema.js';
import { DifferentRunError, ResultsStore, ROWS_FILE } from './results.js';
import { summarize } from '../report/stats.js';
import { HilError } from '../util/errors.js';
import { sha256 } from '../util/fsx.js';
import { toolVersions } from '../util/version.js';

export interface BenchmarkOptions {
  board: string;
  model?: string;
  /** Directory of noisy WAVs; default: the built-in corpus's test split. */
  audio?: string;
  /** Directory of clean references, paired by file name. */
  clean?: string;
  /** Output directory; default runs/<board>-<model>-<model hash>, so each configuration resumes its own run. */
  out?: string;
  overwrite?: boolean;
  /** Only the first N clips (sorted by name). */
  limit?: number;
  /** `--port`: the serial port of a `serial` board, overriding its board file. */
  port?: string;
  /**
   * `--link`: how audio crosses the line (src/link/session.ts LinkMode). `stream` (the default, and what
   * real silicon uses) sends and returns samples; `crc` returns only each output hop's CRC-32, checked
   * against the host engine's; `preload` also has the board's loader place the clips in memory before
   * boot (emulated boards only), and `preload-batch` then asks for many frames per request. Latency figures are the device's own counters in every mode.
   */
  link?: LinkMode;
  /** Tests only: perturbs the host engine's output at these frames of every clip (a model/engine mismatch), so
   *  the per-frame check can be seen to catch it. */
  faultHostFrames?: number[];
}

export type BenchmarkEvent =
  | { type: 'start'; clips: number; skipped: number; frames: number; board: string; model: string; outDir: string; rowsPath: string }
  | { type: 'open'; board: Board }
  /** The session is up (HELLO answered): a display can follow its link counters from here. */
  | { type: 'session'; session: Session }
  | { type: 'frame'; clip: string; frame: number; frames: number }
  | { type: 'clip'; row: ClipResult }
  /** Wall time of one stretch of the run: `boot` (flashing and starting the board until its line is open),
   *  `link` (request/reply exchanges over the serial line: HELLO, CONFIG, the model upload, and each clip's
   *  STREAM_RESET, RUN_FRAMEs and GET_STATS, device compute included), `host` (the host engine's reference
   *  run, scoring and writing of each clip). */
  | { type: 'phase'; phase: 'boot' | 'link' | 'host'; seconds: number }
  | { type: 'note'; text: string };

const SAMPLE_RATE = 16000;
/** Frame requests (a batch counts as one) kept on the line at once; the client's credit bounds them further. */
const FRAME_WINDOW = 4;

interface Clip {
  name: string;
  noisyPath: string;
  cleanPath: string | null;
}

function listWavs(dir: string, what: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new HilError(`${what} ${dir} is not a directory`, 'pass a directory of .wav files');
  return readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.wav'))
    .sort();
}

/** --limit is checked by the CLI before anything slow (the built-in corpus, the firmware) and here for API callers. */
export function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new HilError(`--limit must be a whole number of at least 1, got ${limit}`, 'leave --limit out to run every clip');
}

function pairClips(audioDir: string, cleanDir: string | null, limit?: number): Clip[] {
  checkLimit(limit);
  const names = listWavs(audioDir, '--audio');
  if (names.length === 0) throw new HilError(`--audio ${audioDir} has no .wav files`, 'pass a directory of .wav clips');
  if (cleanDir) listWavs(cleanDir, '--clean');
  const clips = names.slice(0, limit).map((name) => {
    const cleanPath = cleanDir ? join(cleanDir, name) : null;
    if (cleanPath && !existsSync(cleanPath)) throw new HilError(`no clean reference for ${name}: ${cleanPath} is missing`, 'give --clean a directory with the same file names');
    return { name, noisyPath: join(audioDir, name), cleanPath };
  });
  return clips;
}

interface Input {
  clip: Clip;
  pcm: Pcm16;
  clean: Int16Array | null;
}

/**
 * Reads and checks every clip still to run before the device is touched: a bad file found after an hour
 * on a board would cost the hour. Unreadable, empty, truncated and non-finite files are refused by name
 * (src/data/wav.ts); clean and noisy must have the same length once both are at the device's rate.
 */
function readInputs(clips: Clip[], note: (text: string) => void): Input[] {
  return clips.map((clip) => {
    const pcm = readPcm16(clip.noisyPath, SAMPLE_RATE);
    let clean: Int16Array | null = null;
    if (clip.cleanPath) {
      const c = readPcm16(clip.cleanPath, SAMPLE_RATE);
      if (c.samples.length !== pcm.samples.length) {
        throw new HilError(
          `${clip.name}: the clean reference has ${c.samples.length} samples at 16 kHz, the noisy clip ${pcm.samples.length} (${clip.cleanPath}, ${clip.noisyPath})`,
          'clean and noisy clips must be aligned and of equal length',
        );
      }
      if (c.clipped > 0) note(`${clip.cleanPath}: ${c.clipped} samples beyond full scale clipped to int16`);
      clean = c.samples;
    }
    if (pcm.converted) note(`${clip.name}: converted for the device: ${pcm.conversion}`);
    if (pcm.clipped > 0) note(`${clip.name}: ${pcm.clipped} samples beyond full scale clipped to int16 (recorded in the row as clippedSamples)`);
    return { clip, pcm, clean };
  });
}

function inputOf(pcm: Pcm16): ClipInput {
  return {
    sampleRate: pcm.source.sampleRate,
    channels: pcm.source.channels,
    encoding: pcm.source.bitDepth,
    converted: pcm.converted,
    conversion: pcm.conversion,
    clippedSamples: pcm.clipped,
  };
}

function costParams(board: Board): CostParams {
  const a = board.capabilities.accelerator;
  return {
    macsPerCycle: a.macs_per_cycle,
    weightBytesPerCycle: a.weight_bytes_per_cycle,
    elementsPerCycle: a.elements_per_cycle,
    opOverheadCycles: a.op_overhead_cycles,
    frontendCycles: a.frontend_cycles,
  };
}


/** How often a clip is run again after a device reset or a noisy line failed it, before the run fails. */
const MAX_CLIP_RETRIES = 2;

/**
 * Sends the requests of a clip's frames: `batch` frames per request from frame `first` (one, except in
 * preload-batch), each request's results in frame order.
 */
interface FrameSender {
  batch: number;
  send: (session: Session, first: number, count: number) => Promise<FrameResult[]>;
}

function frameSender(mode: LinkMode, session: Session, frames: Int16Array[], preloadOffset: number, hop: number): FrameSender {
  const one = (f: (s: Session, i: number) => Promise<FrameResult>): FrameSender => ({ batch: 1, send: async (s, i) => [await f(s, i)] });
  if (mode === 'crc') return one((s, i) => s.runFrameCrc(i, frames[i]!));
  if (mode === 'preload') return one((s, i) => s.runPreloaded(i, preloadOffset + 2 * hop * i));
  if (mode === 'preload-batch') {
    if (session.maxBatchFrames < 1) throw new HilError(`--link preload-batch: the board's max payload (${session.device?.maxPayload} bytes) holds no frame record`, 'use --link preload');
    return { batch: session.maxBatchFrames, send: (s, i, n) => s.runPreloadedBatch(i, preloadOffset + 2 * hop * i, n) };
  }
  return one((s, i) => s.runFrame(i, frames[i]!));
}

/** Runs one clip through the session, keeping a few requests in flight. Errors name the (first) frame. */
async function streamClip(session: Session, count: number, sender: FrameSender, onFrame: (i: number) => void): Promise<FrameResult[]> {
  const results: FrameResult[] = new Array(count);
  const inFlight = new Map<number, Promise<void>>();
  for (let first = 0; first < count; first += sender.batch) {
    const n = Math.min(sender.batch, count - first);
    const p = sender.send(session, first, n).then(
      (rs) => {
        rs.forEach((r, k) => {
          results[first + k] = r;
          onFrame(first + k);
        });
        inFlight.delete(first);
      },
      (e: Error) => {
        throw Object.assign(e, { frame: first });
      },
    );
    inFlight.set(first, p);
    if (inFlight.size >= FRAME_WINDOW) await Promise.race(inFlight.values());
  }
  await Promise.all(inFlight.values());
  return results;
}

/** One clip on the device: a fresh stream, every frame, then the memory report. */
async function measureClip(session: Session, count: number, send: FrameSender, onFrame: (i: number) => void): Promise<{ results: FrameResult[]; stats: GetStatsReply }> {
  await session.resetStream();
  const results = await streamClip(session, count, send, onFrame);
  return { results, stats: await session.stats() };
}

/** The clips' frames back to back, int16 little-endian: the audio image a preloading board's loader places. */
function audioImage(clips: Int16Array[][]): { image: Uint8Array; offsets: number[] } {
  const offsets: number[] = [];
  let bytes = 0;
  for (const frames of clips) {
    offsets.push(bytes);
    bytes += frames.reduce((n, f) => n + 2 * f.length, 0);
  }
  const image = Buffer.alloc(bytes);
  let at = 0;
  for (const frames of clips) for (const f of frames) for (const v of f) at = image.writeInt16LE(v, at);
  return { image, offsets };
}

function score(reference: Float64Array | null, estimate: Float64Array): { sdr: number | null; sisdr: number | null } {
  if (!reference) return { sdr: null, sisdr: null };
  try {
    return scorePair(reference, estimate);
  } catch (e) {
    // A silent device output is a result (the model muted everything), not a reason to stop the run.
    if (e instanceof SilentEstimateError) return { sdr: null, sisdr: null };
    throw e;
  }
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

export async function runBenchmark(opts: BenchmarkOptions, onEvent: (e: BenchmarkEvent) => void = () => {}): Promise<ResultsFile> {
  const model: ResolvedModel = resolveModel(opts.model);
  const blob: ModelBlob = parseBlob(model.blob);

  let audioDir = opts.audio;
  let cleanDir = opts.clean ?? null;
  if (!audioDir) {
    // The built-in corpus is made on first use (about two minutes) and reused after.
    const corpus = await ensureCorpus({ size: 'small', seed: 1 }, (e) => {
      if (e.kind === 'phase' && e.total > 0) onEvent({ type: 'note', text: `built-in corpus: ${e.phase} (${e.total})` });
      if (e.kind === 'warn') onEvent({ type: 'note', text: `built-in corpus: ${e.message}` });
    });
    audioDir = join(corpus.dir, 'test', 'noisy');
    cleanDir = cleanDir ?? join(corpus.dir, 'test', 'clean');
  }
  audioDir = resolve(audioDir);
  cleanDir = cleanDir ? resolve(cleanDir) : null;
  const clips = pairClips(audioDir, cleanDir, opts.limit);
  const mode = opts.link ?? 'stream';
  if (!LINK_MODES.includes(mode)) throw new HilError(`--link ${mode}: unknown link mode`, `use one of ${LINK_MODES.join(', ')}`);

  // The board's driver actions and its line are logged to <out>/logs/ (attached once --out is locked).
  const logs = new RunLogs();
  const board = await loadBoard(opts.board, { port: opts.port, log: logs.link, boardLog: logs.board });
  let outDir = resolve(opts.out ?? join('runs', `${board.name}-${model.name}-${model.sha256.slice(0, 8)}`));
  const note = (text: string) => onEvent({ type: 'note', text });
  // Every input is checked before --out is created or locked and before the firmware is built, so a
  // refused input leaves no trace and costs no wait; clips already stored are skipped by a peek at
  // rows.jsonl, and the store checks again under its lock.
  const alreadyDone = opts.overwrite ? new Set<string>() : peekDone(outDir);
  let inputs = readInputs(
    clips.filter((c) => !alreadyDone.has(c.name)),
    note,
  );
  // Rebuilds the image when its sources changed (make is incremental) and records what will run.
  const firmware = await buildFirmwareImage(board.file);
  const provenance: Provenance = {
    board: board.name,
    boardBackend: board.backend ?? board.file.launch.kind,
    firmwareBuildId: firmware.build_id,
    firmwareSha256: firmware.sha256,
    modelSha256: model.sha256,
    modelName: model.name,
    profile: model.profile,
    seed: model.seed,
    audioDir,
    cleanDir,
    versions: { ...toolVersions(), toolchain: firmware.toolchain },
    // Absent means stream, so stores written before link modes existed still resume.
    ...(mode === 'stream' ? {} : { linkMode: mode }),
  };
  if (isPreloadMode(mode) && !board.preloadAudio) {
    throw new HilError(`--link ${mode}: board ${board.name} (${provenance.boardBackend}) has no loader that can place clips in memory`, 'use --link crc (or stream)');
  }
  let store: ResultsStore;
  try {
    store = ResultsStore.open(outDir, provenance, opts.overwrite ?? false, note);
  } catch (e) {
    // The default directory is named by board and model only, so after the firmware or the clips changed it
    // holds another run: rather than refuse a rerun of the same command (npm run demo after an update), this
    // run goes to a directory named by its whole provenance, and a rerun of it resumes there.
    if (opts.out !== undefined || !(e instanceof DifferentRunError)) throw e;
    outDir = `${outDir}-${sha256(JSON.stringify({ ...provenance, versions: undefined })).slice(0, 8)}`;
    note(`the default output directory holds another run (other firmware, clips or settings); this one goes to ${outDir}`);
    const done = peekDone(outDir);
    inputs = readInputs(
      clips.filter((c) => !done.has(c.name)),
      note,
    );
    store = ResultsStore.open(outDir, provenance, false, note);
  }
  try {
    logs.attach(outDir);
    logs.board('info', `run: board ${board.name} (${provenance.boardBackend}), firmware build ${firmware.build_id}, model ${model.name} ${model.sha256.slice(0, 12)}`);
    return await measure(store, inputs, { board, blob, model, firmware, outDir, onEvent, total: clips.length, mode, faultHostFrames: opts.faultHostFrames ?? [] });
  } finally {
    store.close();
    logs.close();
  }
}

/** Clip names of rows already stored in `outDir`, read without the lock (ResultsStore.open checks them). */
function peekDone(outDir: string): Set<string> {
  const path = join(outDir, ROWS_FILE);
  if (!existsSync(path)) return new Set();
  const done = new Set<string>();
  for (const line of readFileSync(path, 'utf8').split('\n').slice(1)) {
    try {
      done.add((JSON.parse(line) as { key: string }).key);
    } catch {
      // a torn last line: that clip is measured again
    }
  }
  return done;
}

interface MeasureContext {
  board: Board;
  blob: ModelBlob;
  model: ResolvedModel;
  firmware: { build_id: string };
  outDir: string;
  onEvent: (e: BenchmarkEvent) => void;
  total: number;
  mode: LinkMode;
  faultHostFrames: number[];
}

async function measure(store: ResultsStore, allInputs: Input[], ctx: MeasureContext): Promise<ResultsFile> {
  const { board, blob, model, firmware, outDir, onEvent, mode } = ctx;
  // Another process may have finished clips between the peek and the lock.
  const inputs = allInputs.filter((i) => !store.has(i.clip.name));
  const cost = costParams(board);
  const framesOf = (n: number) => clipToFrames(new Int16Array(n), blob.hop, blob.nFft).length;
  onEvent({
    type: 'start',
    clips: inputs.length,
    skipped: ctx.total - inputs.length,
    frames: inputs.reduce((s, i) => s + framesOf(i.pcm.samples.length), 0),
    board: board.name,
    model: model.name,
    outDir,
    rowsPath: store.rowsPath,
  });
  if (inputs.length === 0) return store.file();

  let session: Session | null = null;
  let mark = Date.now();
  /** Ends the stretch since the last mark as `phase`. */
  const phase = (p: 'boot' | 'link' | 'host') => {
    const now = Date.now();
    onEvent({ type: 'phase', phase: p, seconds: (now - mark) / 1000 });
    mark = now;
  };
  try {
    // Inside the try: flashing the sim creates its temporary directory, which close() removes.
    const placed = await board.flash(model.blob);
    // Preloading: every clip still to run, frames back to back, placed by the loader with the model.
    const preload = isPreloadMode(mode) ? audioImage(inputs.map((i) => clipToFrames(i.pcm.samples, blob.hop, blob.nFft))) : null;
    if (preload) {
      await board.preloadAudio!(preload.image);
      onEvent({ type: 'note', text: `${inputs.length} clips preloaded into the board's audio partition by its loader (${preload.image.length} bytes)` });
    }
    session = await board.open();
    phase('boot');
    onEvent({ type: 'open', board });
    const hello = await session.hello();
    onEvent({ type: 'session', session });
    checkIdentity(hello, board.name, firmware.build_id);
    await session.configure(cost);
    const active = await session.loadModel(model.blob);
    if (placed === 'placed') onEvent({ type: 'note', text: `model placed in the board's partition by its flasher (${model.blob.length} bytes)` });
    const latencyKind = LATENCY_KINDS.find((k) => LatencyKindCode[k] === hello.latencyKind);
    if (!latencyKind) throw new HilError(`the board reports an unknown latency kind ${hello.latencyKind}`);
    const framePeriodUs = (blob.hop / SAMPLE_RATE) * 1e6;
    phase('link');

    for (const [clipIndex, { clip, pcm, clean: cleanPcm }] of inputs.entries()) {
      const expected = runClipOnHost(blob, pcm.samples, { cost });
      for (const f of ctx.faultHostFrames) if (expected.outFrames[f]) expected.outFrames[f]![0] ^= 1;
      const send = frameSender(mode, session, clipToFrames(pcm.samples, blob.hop, blob.nFft), preload?.offsets[clipIndex] ?? 0, blob.hop);
      phase('host');
      const frames = clipToFrames(pcm.samples, blob.hop, blob.nFft);
      const linkBefore = session.linkStats();
      let clipRetries = 0;
      let measured: { results: FrameResult[]; stats: GetStatsReply };
      for (;;) {
        try {
          measured = await measureClip(session, frames.length, send, (i) => onEvent({ type: 'frame', clip: clip.name, frame: i, frames: frames.length }));
          break;
        } catch (err) {
          const e = err as Error & { frame?: number };
          const where = e.frame === undefined ? '' : ` at frame ${e.frame + 1}/${frames.length}`;
          // A device that restarted lost its model and stream; a noisy line left the stream state unknown.
          // Either way the clip is run again from STREAM_RESET (the model reloaded after a reset), so a
          // row is never lost to them; a hung or dead device is not retried.
          // Frames already on the line when the device restarted may come back as ERRORs of the model-less
          // device before its banner is read, so a reset seen during the clip counts whatever failed first.
          const resetSeen = e instanceof DeviceResetError || session.linkStats().deviceResets > linkBefore.deviceResets;
          if (clipRetries < MAX_CLIP_RETRIES && (resetSeen || e instanceof LinkNoisyError || e instanceof StreamStateError)) {
            clipRetries++;
            onEvent({ type: 'note', text: `clip ${clip.name}${where}: ${e.message}; running it again (${clipRetries}/${MAX_CLIP_RETRIES})` });
            if (resetSeen) await session.loadModel(model.blob);
            continue;
          }
          throw new HilError(`board ${board.name} failed during clip ${clip.name}${where}: ${e.message}`, `${store.all().length} finished clips are kept in ${store.rowsPath}; rerun the same command to resume`);
        }
      }
      phase('link');
      const { results, stats } = measured;
      const linkCost = linkStatsDelta(linkBefore, session.linkStats());
      // Every output hop is checked against the host engine's, by its samples or by their CRC-32. In the
      // crc and preload modes no samples came back: the enhanced WAV and the scores are the host engine's
      // output, which is the device's wherever the CRCs agree.
      const mismatched = results.flatMap((r, i) => (r.outputCrc32 === samplesCrc32(expected.outFrames[i]!) ? [] : [i]));
      const hostFrames = expected.outFrames;
      const output = framesToClip(
        results.map((r, i) => r.output ?? hostFrames[i]!),
        blob.hop,
        blob.nFft,
        pcm.samples.length,
      );
      const bitExact = mismatched.length === 0 && results.length === hostFrames.length;
      if (mismatched.length) {
        onEvent({ type: 'note', text: `clip ${clip.name}: ${mismatched.length} output frames differ from the host engine's (first: frame ${mismatched[0]! + 1}/${frames.length}), link mode ${mode}` });
      }
      writePcm16(join(store.enhancedDir, clip.name), output, SAMPLE_RATE);

      const clean = cleanPcm ? fromInt16(cleanPcm) : null;
      const noisyScore = score(clean, fromInt16(pcm.samples));
      const outScore = score(clean, fromInt16(output));

      const latency = summarize(results.map((r) => Number(r.latency)));
      const network = summarize(results.map((r) => Number(r.networkLatency)));
      const modelled = summarize(results.map((r) => r.modelledCycles));
      const toUs = (v: number) => (v / hello.clockHz) * 1e6;
      const accelUs = (v: number) => (v / board.capabilities.accelerator.clock_hz) * 1e6;
      const row: ClipResult = {
        clip: clip.name,
        samples: pcm.samples.length,
        frames: frames.length,
        input: inputOf(pcm),
        link: {
          retransmissions: linkCost.retransmissions,
          timeouts: linkCost.timeouts,
          corruptFrames: linkCost.rxCorrupt + linkCost.deviceDrops,
          resyncs: linkCost.resyncs,
          clipRetries,
          mode,
        },
        bitExact,
        sdrNoisy: noisyScore.sdr,
        sisdrNoisy: noisyScore.sisdr,
        sdrOut: outScore.sdr,
        sisdrOut: outScore.sisdr,
        sdrImprovement: diff(outScore.sdr, noisyScore.sdr),
        sisdrImprovement: diff(outScore.sisdr, noisyScore.sisdr),
        latencyKind,
        latencyUnit: latencyKind === 'emulated' ? 'instructions' : 'cycles',
        latencyMean: latency.mean,
        latencyP50: latency.p50,
        latencyP99: latency.p99,
        latencyUsP50: toUs(latency.p50),
        latencyUsP99: toUs(latency.p99),
        networkLatencyMean: network.mean,
        networkLatencyP50: network.p50,
        networkLatencyP99: network.p99,
        networkLatencyUsP50: toUs(network.p50),
        networkLatencyUsP99: toUs(network.p99),
        modelledCyclesP50: modelled.p50,
        modelledCyclesP99: modelled.p99,
        modelledUsP50: accelUs(modelled.p50),
        rtfP99: toUs(latency.p99) / framePeriodUs,
        macsPerFrame: summarize(results.map((r) => r.macs)).mean,
        weightBytesPerFrame: summarize(results.map((r) => r.weightBytes)).mean,
        sramBytes: stats.staticSramBytes + stats.arenaBytes + stats.stackHighWaterBytes,
        sramStaticBytes: stats.staticSramBytes,
        arenaBytes: stats.arenaBytes,
        stackHighWaterBytes: stats.stackHighWaterBytes,
        flashBytes: stats.imageFlashBytes + stats.modelFlashBytes,
        flashImageBytes: stats.imageFlashBytes,
        flashModelBytes: stats.modelFlashBytes,
        memorySource: board.capabilities.memoryLabel,
        finishedAt: new Date().toISOString(),
      };
      if (active.arenaBytes !== expected.arenaBytes) {
        onEvent({ type: 'note', text: `arena: device reports ${active.arenaBytes} bytes, host engine ${expected.arenaBytes}` });
      }
      store.add(row);
      phase('host');
      onEvent({ type: 'clip', row });
    }
  } finally {
    await session?.close().catch(() => {});
    await board.close().catch(() => {});
  }
  return store.file();
}

