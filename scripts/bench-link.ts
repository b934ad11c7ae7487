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
 *                      4-byte CRC out (preload);
 *   efficiency         the host→device payload (the PCM in; none with preload) in B/s over the line's
 *                      host→device bulk rate: the direction that limits an emulated UART;
 *   wire B/frame       encoded bytes both ways per frame (requests, replies, delimiters);
 *   device latency     the device's own figure per frame (instructions on corstone-300 under QEMU, modelled
 *                      cycles on sim), unchanged by the link mode;
 *   emulator CPU       the emulator process's CPU time per frame (/proc), and the instructions per frame
 *                      over the wall and over that CPU time: QEMU's emulation speed (MIPS).
 *
 * Usage: npm run bench:link [-- --boards sim,corstone-300 --modes stream,crc,preload --limit 2 --model models/se-small]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadBoard } from '../src/board/registry.js';
import { Msg } from '../src/link/messages.js';
import { LINK_MODES, type LinkMode } from '../src/link/session.js';
import { runBenchmark } from '../src/run/benchmark.js';
import { repoPath } from '../src/util/paths.js';

const { values } = parseArgs({
  options: {
    boards: { type: 'string', default: 'sim,corstone-300' },
    modes: { type: 'string', default: LINK_MODES.join(',') },
    limit: { type: 'string', default: '2' },
    model: { type: 'string', default: repoPath('models/se-small') },
    'probe-bytes': { type: 'string', default: String(64 << 10) },
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
      const inRate = (frames * (mode === 'preload' ? 0 : 2 * hop)) / linkSeconds;
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
  ].join('\n'),
);
