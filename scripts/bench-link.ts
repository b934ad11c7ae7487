/**
 * How fast audio crosses the link, per board and link mode (issue 13, item 4; docs/protocol.md §7).
 *
 * For each board it first measures what the line can carry: the host→device bulk rate of a model upload
 * (MODEL_BEGIN and 1000-byte MODEL_CHUNKs within the device's credit, never activated; the best of three). Then per
 * link mode it runs `hil run --link <mode>` over the first N clips of the built-in corpus with se-small
 * and prints, over the clips' link time (STREAM_RESET, every frame request, GET_STATS; device compute
 * included):
 *   audio s / wall s   seconds of 16 kHz audio measured per second of wall time (≥ 1: faster than real time);
 *   payload B/s        audio payload moved: PCM in + PCM out (stream), PCM in + a 4-byte CRC out (crc), a
 *                      4-byte CRC out (preload, preload-batch);
 *   efficiency         the host→device payload (the PCM in; none when preloaded) in B/s over the line's
 *                      host→device bulk rate: the direction that limits an emulated UART;
 *   wire B/frame       encoded bytes both ways per frame (requests, replies, delimiters);
 *   device latency     the device's own figure per frame (instructions on corstone-300 under QEMU, modelled
 *                      cycles on sim), unchanged by the link mode;
 *   emulator CPU       the emulator process's CPU time per frame (/proc), and the instructions per frame
 *                      over the wall and over that CPU time: QEMU's emulation speed (MIPS).
 *
 * With --instances 2,4 it then runs each preloading mode measured (preload, preload-batch) on that many
 * boards at once (each its own QEMU and
 * host process, the same clips) and prints their aggregate: all the audio over the wall time from the first clip's start to
 * the last clip's end (conservative: an instance still booting counts as idle time).
 *
 * Usage: npm run bench:link [-- --boards sim,corstone-300 --modes stream,crc,preload,preload-batch --limit 2 --model models/se-small --instances 2,4]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadBoard } from '../src/board/registry.js';
import { Msg } from '../src/link/messages.js';
import { isPreloadMode, LINK_MODES, type LinkMode } from '../src/link/session.js';
import { runBenchmark } from '../src/run/benchmark.js';
import { repoPath } from '../src/util/paths.js';

const { values } = parseArgs({
  options: {
    boards: { type: 'string', default: 'sim,corstone-300' },
    modes: { type: 'string', default: LINK_MODES.join(',') },
    limit: { type: 'string', default: '2' },
    model: { type: 'string', default: repoPath('models/se-small') },
    'probe-bytes': { type: 'string', default: String(64 << 10) },
    /** Also run the fastest mode on N boards at once (option c), e.g. 1,2,4; only for boards that preload. */
    instances: { type: 'string', default: '' },
    /** Internal: one preloading run for --instances, its stretch printed as JSON. */
    child: { type: 'string' },
    /** Internal: the child's link mode. */
    'child-mode': { type: 'string', default: 'preload' },
  },
});
const err = (s: string) => process.stderr.write(s + '\n');
const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');

/** Host→device bulk rate of the line, bytes of chunk data per second. */
async function lineRate(boardName: string, bytes: number): Promise<number> {
  const board = await loadBoard(boardName);
  try {
    const session = await board.open();
    try {
      await session.hello();
      const blob = new Uint8Array(bytes).map((_, i) => (i * 37) & 255);
      const t0 = performance.now();
      await session.client.request(Msg.MODEL_BEGIN, { size: bytes, crc32: 0 });
      const pending: Promise<unknown>[] = [];
      for (let offset = 0; offset < bytes; offset += 1000) {
        pending.push(session.client.request(Msg.MODEL_CHUNK, { offset, data: blob.subarray(offset, Math.min(offset + 1000, bytes)) }));
        if (pending.length >= 4) await pending.shift();
      }
      await Promise.all(pending);
      return bytes / ((performance.now() - t0) / 1000);
    } finally {
      await session.close();
    }
  } finally {
    await board.close();
  }
}

interface Row {
  board: string;
  mode: LinkMode;
  audioPerWall: number;
  payloadRate: number;
  efficiency: number;
  emulated: boolean;
  wirePerFrame: number;
  msPerFrame: number;
  computePerFrame: number;
  /** The emulator's CPU time (user + system, /proc) per frame, when the board runs one. */
  cpuMsPerFrame: number | null;
  bitExact: boolean;
  load: string;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

const rows: Row[] = [];
const capacities = new Map<string, number>();
const limit = Number(values.limit);

if (values.child) {
  process.stdout.write(JSON.stringify(await preloadStretch(values.child, values['child-mode'] as LinkMode)));
  process.exit(0);
}

for (const board of values.boards!.split(',').filter(Boolean)) {
  // The best of three probes: the machine is shared, and a slow probe would inflate every efficiency.
  let capacity = 0;
  for (let k = 0; k < 3; k++) capacity = Math.max(capacity, await lineRate(board, Number(values['probe-bytes'])));
  capacities.set(board, capacity);
  err(`bench:link: ${board}: line bulk rate host→device ${(capacity / 1024).toFixed(1)} KiB/s (load ${load()})`);
  for (const mode of values.modes!.split(',').filter(Boolean) as LinkMode[]) {
    const out = mkdtempSync(join(tmpdir(), `hil-bench-link-${basename(board)}-${mode}-`));
    let linkSeconds = 0;
    let linkPhases = 0;
    let bytesBefore = 0;
    let session: import('../src/link/session.js').Session | null = null;
    let wire = 0;
    let pid: number | undefined;
    let cpuAtClipStart = 0;
    let cpuSeconds = 0;
    try {
      const file = await runBenchmark({ board, model: values.model, limit, out, link: mode }, (e) => {
        if (e.type === 'session') session = e.session;
        if (e.type === 'open') pid = (e.board as { pid?: number }).pid;
        // A clip's link stretch starts at a 'host' phase (the reference run) and ends at the next 'link'.
        if (e.type === 'phase' && e.phase === 'host' && pid) cpuAtClipStart = cpuOf(pid);
        if (e.type === 'phase' && e.phase === 'link' && linkPhases > 0 && pid) cpuSeconds += cpuOf(pid) - cpuAtClipStart;
        if (e.type === 'phase' && e.phase === 'link') {
          // The first link stretch is HELLO, CONFIG and the model; each later one is a clip.
          if (linkPhases++ > 0) linkSeconds += e.seconds;
          if (linkPhases === 1 && session) bytesBefore = session.linkStats().bytesSent + session.linkStats().bytesReceived;
        }
        if (e.type === 'clip' && session) wire = session.linkStats().bytesSent + session.linkStats().bytesReceived - bytesBefore;
        if (e.type === 'note' && !e.text.startsWith('built-in')) err(`bench:link: ${board} ${mode}: ${e.text}`);
      });
      const frames = file.rows.reduce((n, r) => n + r.frames, 0);
      const samples = file.rows.reduce((n, r) => n + r.samples, 0);
      const hop = 256;
      const perFrame = mode === 'stream' ? 4 * hop : mode === 'crc' ? 2 * hop + 4 : 4;
      const payloadRate = (frames * perFrame) / linkSeconds;
      const inRate = (frames * (isPreloadMode(mode) ? 0 : 2 * hop)) / linkSeconds;
      const row: Row = {
        board,
        mode,
        audioPerWall: samples / 16000 / linkSeconds,
        payloadRate,
        efficiency: inRate / capacity,
        emulated: file.rows[0]?.latencyKind === 'emulated',
        wirePerFrame: wire / frames,
        msPerFrame: (linkSeconds * 1000) / frames,
        cpuMsPerFrame: pid ? (cpuSeconds * 1000) / frames : null,
        computePerFrame: file.rows.reduce((n, r) => n + r.latencyMean * r.frames, 0) / frames,
        bitExact: file.rows.every((r) => r.bitExact),
        load: load(),
      };
      rows.push(row);
      err(`bench:link: ${board} ${mode}: ${row.audioPerWall.toFixed(2)} audio s per wall s, ${row.msPerFrame.toFixed(2)} ms per frame (load ${row.load})`);
    } catch (e) {
      err(`bench:link: ${board} ${mode}: ${(e as Error).message}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
}

/** One preloading run's clip stretches, as wall-clock times (comparable across processes). */
async function preloadStretch(board: string, mode: LinkMode): Promise<{ first: number; last: number; audio: number; mine: number; bitExact: boolean }> {
  let first = Infinity;
  let last = 0;
  let linkPhases = 0;
  let mine = 0;
  const out = mkdtempSync(join(tmpdir(), `hil-bench-link-${basename(board)}-par-`));
  try {
    const file = await runBenchmark({ board, model: values.model, limit, out, link: mode }, (e) => {
      if (e.type !== 'phase') return;
      // A clip's stretch starts when its reference run ends ('host') and ends with its 'link' phase.
      if (e.phase === 'host' && linkPhases > 0) first = Math.min(first, Date.now());
      if (e.phase === 'link' && linkPhases++ > 0) {
        last = Math.max(last, Date.now());
        mine += e.seconds;
      }
    });
    return { first, last, audio: file.rows.reduce((a, r) => a + r.samples, 0) / 16000, mine, bitExact: file.rows.every((r) => r.bitExact) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * N preloading boards at once, each driven by its own process (as `hil sweep --instances` would run
 * them: one host engine each): all their audio over the span from the first clip's start to the last
 * clip's end.
 */
async function parallel(board: string, n: number, mode: LinkMode): Promise<{ audioPerWall: number; perInstance: number[]; bitExact: boolean; load: string }> {
  const script = fileURLToPath(import.meta.url);
  const child = () =>
    new Promise<Awaited<ReturnType<typeof preloadStretch>>>((done, fail) => {
      const args = [...process.execArgv, script, '--child', board, '--child-mode', mode, '--limit', String(limit), '--model', values.model!];
      execFile(process.execPath, args, { maxBuffer: 1 << 20 }, (e, stdout) => (e ? fail(e) : done(JSON.parse(stdout))));
    });
  const runs = await Promise.all(Array.from({ length: n }, child));
  const first = Math.min(...runs.map((r) => r.first));
  const last = Math.max(...runs.map((r) => r.last));
  const audio = runs.reduce((a, r) => a + r.audio, 0);
  return { audioPerWall: audio / ((last - first) / 1000), perInstance: runs.map((r) => r.audio / r.mine), bitExact: runs.every((r) => r.bitExact), load: load() };
}

const par: string[] = [];
for (const board of values.boards!.split(',').filter(Boolean)) {
  // Each preloading mode that ran, in its order: the machine is shared, so comparisons want them adjacent.
  const modes = rows.filter((r) => r.board === board && isPreloadMode(r.mode)).map((r) => r.mode);
  for (const n of values.instances!.split(',').filter(Boolean).map(Number)) {
    for (const mode of modes) {
      const p = await parallel(board, n, mode);
      err(`bench:link: ${board} ${mode} ×${n}: ${p.audioPerWall.toFixed(2)} audio s per wall s together (load ${p.load})`);
      par.push(`| ${board} | ${n} × ${mode} | ${p.audioPerWall.toFixed(2)} | ${p.perInstance.map((v) => v.toFixed(2)).join(', ')} | ${p.bitExact ? 'yes' : 'NO'} | ${p.load} |`);
    }
  }
}

const f = (v: number, d = 2) => v.toFixed(d);
process.stdout.write(
  [
    `se-small, ${limit} clips of the built-in corpus per row; load average at the end of each row`,
    ...[...capacities].map(([b, c]) => `${b}: line bulk rate host→device ${(c / 1024).toFixed(1)} KiB/s`),
    '',
    '| board | link mode | audio s / wall s | ms per frame | payload KiB/s | efficiency | wire B/frame | device latency / frame | emulator CPU ms / frame | MIPS (wall, emulator CPU) | bit-exact | load |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.board} | ${r.mode} | ${f(r.audioPerWall)} | ${f(r.msPerFrame)} | ${f(r.payloadRate / 1024, 1)} | ${f(100 * r.efficiency, 1)} % | ${Math.round(r.wirePerFrame)} | ${Math.round(r.computePerFrame)} | ${r.cpuMsPerFrame === null ? '–' : f(r.cpuMsPerFrame)} | ${r.cpuMsPerFrame === null || !r.emulated ? '–' : `${f(r.computePerFrame / r.msPerFrame / 1000, 1)}, ${f(r.computePerFrame / r.cpuMsPerFrame / 1000, 1)}`} | ${r.bitExact ? 'yes' : 'NO'} | ${r.load} |`,
    ),
    '',
    ...(par.length
      ? ['| board | instances × link mode | audio s / wall s, together | each instance | bit-exact | load |', '|---|---|---|---|---|---|', ...par, '']
      : []),
  ].join('\n'),
);
