/**
 * The `corstone-300` board: the firmware built for the Cortex-M55 (firmware/ports/corstone-300) on one of
 * three backends, listed in the board file in order of preference: Arm's FVP, QEMU's mps3-an547 machine,
 * a real MPS3 board. The first one available here is used (HIL_BACKEND=fvp|qemu|mps3 picks one). The
 * firmware is the same image on all three; what differs is how it is started, how the model gets into
 * its partition, where UART0 is, and what its latency means (docs/corstone-300.md).
 *
 * The session it hands out checks the device against the board file and the ELF: partition, arena and
 * clock in the HELLO reply, and every GET_STATS memory figure against the image's section sizes.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';
import type { HelloReply, GetStatsReply } from '../link/messages.js';
import { Session, type SessionOptions } from '../link/session.js';
import { openSerialTransport, openTcpTransport, type StreamTransport, type Banner, type LinkLog } from '../link/transport.js';
import type { Board, BoardCapabilities, LaunchOptions } from './board.js';
import { imageMemory } from './elf.js';
import { FileFlasher, Mps3Flasher } from './flasher.js';
import { makeFirmware } from './firmware.js';
import { FVP_BACKEND_SCHEMA, FVP_NUM_MACS, FVP_PORT_LINE, fvpCommand, type FvpBackend } from './fvp.js';
import { BoardMachine, type BoardState } from './machine.js';
import { MPS3_BACKEND_SCHEMA, mps3Unavailable, requireMps3Paths, type Mps3Backend } from './mps3.js';
import { findOnPath, ProcessDriver } from './process.js';
import { QEMU_BACKEND_SCHEMA, QEMU_PTY_LINE, qemuCommand, type QemuBackend } from './qemu.js';
import { u32, validateSection, type BoardFile, type LatencyKind } from './schema.js';
import { LatencyKindCode as KIND_CODE } from '../spec/protocol.js';
import { StringEnum } from '../util/schema.js';

const MemorySchema = Type.Object(
  { name: Type.String({ minLength: 1 }), base: u32(), bytes: Type.Integer({ minimum: 1 }), use: Type.String() },
  { additionalProperties: false },
);
export type Memory = Static<typeof MemorySchema>;

/** The corstone-300 launcher's own fields in the board file's `launch` section. Each backend is checked
 *  here for its `kind` only, then against its own schema (parseLaunch). */
const LAUNCH_SCHEMA = Type.Object(
  {
    kind: Type.Literal('corstone-300'),
    cpu: Type.Object({ name: Type.String({ minLength: 1 }), clock_hz: u32({ minimum: 1 }) }, { additionalProperties: false }),
    /** The AN547 memory map, for reference and for the checks below. */
    memories: Type.Array(MemorySchema, { minItems: 1 }),
    /** Where the firmware image lives (its "flash"). */
    image_memory: Type.String({ minLength: 1 }),
    /** The model partition: must match firmware/ports/corstone-300/corstone-300.ld. */
    model_partition: Type.Object(
      { memory: Type.String({ minLength: 1 }), base: u32(), bytes: u32({ minimum: 1 }) },
      { additionalProperties: false },
    ),
    /** Where `hil run --link preload` has QEMU's loader place the clips: must match the linker script too. */
    audio_partition: Type.Optional(
      Type.Object({ memory: Type.String({ minLength: 1 }), base: u32(), bytes: u32({ minimum: 1 }) }, { additionalProperties: false }),
    ),
    arena_bytes: u32({ minimum: 1 }),
    stack_bytes: u32({ minimum: 1 }),
    /** In order of preference. */
    backends: Type.Array(Type.Object({ kind: StringEnum(['fvp', 'qemu', 'mps3']) }), { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type Corstone300Backend = FvpBackend | QemuBackend | Mps3Backend;
export type BackendKind = Corstone300Backend['kind'];
/** The launch section once each backend has passed its own schema. */
export type Corstone300Launch = Omit<Static<typeof LAUNCH_SCHEMA>, 'backends'> & { backends: Corstone300Backend[] };

const BACKEND_SCHEMAS = { fvp: FVP_BACKEND_SCHEMA, qemu: QEMU_BACKEND_SCHEMA, mps3: MPS3_BACKEND_SCHEMA } satisfies Record<BackendKind, unknown>;

/** What each backend's latency figure is. The firmware reports `measured` whenever the DWT counts, which
 * an FVP's does too; an FVP is still an instruction-accurate model, not silicon. */
export const BACKEND_LATENCY: Record<BackendKind, { kind: LatencyKind; unit: 'cycles' | 'instructions' }> = {
  fvp: { kind: 'emulated', unit: 'instructions' },
  qemu: { kind: 'emulated', unit: 'instructions' },
  mps3: { kind: 'measured', unit: 'cycles' },
};

export function parseLaunch(file: BoardFile, path: string): Corstone300Launch {
  const section = validateSection(LAUNCH_SCHEMA, file.launch, path, 'launch');
  const launch: Corstone300Launch = {
    ...section,
    backends: section.backends.map((b, i) => validateSection(BACKEND_SCHEMAS[b.kind], b, path, `launch.backends.${i}`)),
  };
  const mem = (name: string, field: string) => {
    const m = launch.memories.find((x) => x.name === name);
    if (!m) throw new HilError(`${path}: launch.${field} names memory "${name}", which launch.memories does not list`);
    return m;
  };
  mem(launch.image_memory, 'image_memory');
  const ddr = mem(launch.model_partition.memory, 'model_partition.memory');
  const p = launch.model_partition;
  if (p.base < ddr.base || p.base + p.bytes > ddr.base + ddr.bytes) {
    throw new HilError(`${path}: launch.model_partition does not fit in ${ddr.name}`, 'compare with the AN547 memory map in docs/corstone-300.md');
  }
  const a = launch.audio_partition;
  if (a) {
    const m = mem(a.memory, 'audio_partition.memory');
    if (a.base < m.base || a.base + a.bytes > m.base + m.bytes || (a.base < p.base + p.bytes && p.base < a.base + a.bytes)) {
      throw new HilError(`${path}: launch.audio_partition does not fit in ${m.name} beside the model partition`, 'compare with the AN547 memory map in docs/corstone-300.md');
    }
  }
  if (launch.backends.some((b) => b.kind === 'fvp') && !(FVP_NUM_MACS as readonly number[]).includes(file.accelerator.macs_per_cycle)) {
    throw new HilError(`${path}: the FVP models an Ethos-U55 with ${FVP_NUM_MACS.join(', ')} MACs, not accelerator.macs_per_cycle ${file.accelerator.macs_per_cycle}`);
  }
  return launch;
}

export interface Probe {
  onPath(name: string): string | null;
  exists(path: string): boolean;
  env: NodeJS.ProcessEnv;
}
const REAL_PROBE: Probe = { onPath: (n) => findOnPath(n), exists: existsSync, env: process.env };

/** Why a backend cannot run here, or null when it can. */
export function unavailable(b: Corstone300Backend, probe: Probe): string | null {
  switch (b.kind) {
    case 'fvp':
    case 'qemu':
      return probe.onPath(b.executable) ? null : `${b.executable} is not on PATH`;
    case 'mps3':
      return mps3Unavailable(b, probe.exists, probe.env);
  }
}

/** The backend to use: HIL_BACKEND if set, else the first available in the board file's order. */
export function chooseBackend(launch: Corstone300Launch, path: string, probe: Probe = REAL_PROBE): Corstone300Backend {
  const wanted = probe.env.HIL_BACKEND;
  if (wanted) {
    const b = launch.backends.find((x) => x.kind === wanted);
    if (!b) throw new HilError(`HIL_BACKEND=${wanted}, but ${path} lists backends ${launch.backends.map((x) => x.kind).join(', ')}`, 'unset HIL_BACKEND or pick one of those');
    const why = unavailable(b, probe);
    if (why) throw new HilError(`HIL_BACKEND=${wanted} cannot run here: ${why}`, 'see docs/corstone-300.md');
    return b;
  }
  const reasons: string[] = [];
  for (const b of launch.backends) {
    const why = unavailable(b, probe);
    if (!why) return b;
    reasons.push(`${b.kind}: ${why}`);
  }
  throw new HilError(`no backend of board corstone-300 can run here (${reasons.join('; ')})`, 'install qemu-system-arm (`bash scripts/setup.sh`) or see docs/corstone-300.md');
}

/** The backend `hil board list` reports: what chooseBackend() would pick here, or why none can run. */
export function describeCorstone300(file: BoardFile, path: string, probe: Probe = REAL_PROBE): { backend: string; available: boolean; detail: string } {
  const launch = parseLaunch(file, path);
  try {
    const b = chooseBackend(launch, path, probe);
    const detail = b.kind === 'mps3' ? 'MPS3 volume and UART found' : `${probe.onPath(b.executable)}`;
    return { backend: b.kind, available: true, detail: probe.env.HIL_BACKEND ? `${detail} (HIL_BACKEND)` : detail };
  } catch (e) {
    return { backend: launch.backends.map((b) => b.kind).join('|'), available: false, detail: e instanceof HilError ? e.message : String(e) };
  }
}

export function createCorstone300Board(file: BoardFile, path: string, opts: LaunchOptions): Board {
  if (opts.port) throw new HilError(`--port ${opts.port}: board ${file.name} is launch.kind corstone-300, not serial`, 'leave --port out (the mps3 backend takes HIL_MPS3_SERIAL)');
  const launch = parseLaunch(file, path);
  return new Corstone300Board(file, launch, chooseBackend(launch, path), opts.log, opts.boardLog);
}

/** How long a closed line waits for the emulator's exit, to say how it died. */
const DEATH_REPORT_MS = 1000;

export class Corstone300Board implements Board {
  readonly name: string;
  readonly capabilities: BoardCapabilities;
  /** Which backend runs the firmware: fvp, qemu or mps3. */
  readonly backend: BackendKind;
  /** The process driver of an emulator backend (none for the MPS3: hil does not run it). */
  private readonly emulator: ProcessDriver | null;
  private readonly machine: BoardMachine;
  private readonly boardLog: LinkLog;
  private dir: string | null = null;
  private modelPath: string | null = null;
  private audioPath: string | null = null;
  private session: Session | null = null;
  private ptyPath: string | null = null;

  constructor(
    readonly file: BoardFile,
    readonly launch: Corstone300Launch,
    readonly backendConfig: Corstone300Backend,
    private readonly log: LinkLog = () => {},
    boardLog: LinkLog = log,
  ) {
    this.name = file.name;
    this.backend = backendConfig.kind;
    this.boardLog = boardLog;
    this.capabilities = {
      latency: BACKEND_LATENCY[this.backend],
      memoryLabel: file.memory_label,
      accelerator: file.accelerator,
      placesModel: true,
    };
    this.machine = new BoardMachine(`${this.name} (${this.backend})`, boardLog);
    this.emulator = this.backend === 'mps3' ? null : new ProcessDriver(this.backend === 'qemu' ? 'QEMU' : 'the FVP', { log: boardLog });
    if (this.emulator) {
      this.emulator.onUnexpectedExit = (why) => {
        if (this.machine.started) this.machine.to('off', why.message);
        this.session?.client.fail(why);
      };
    }
  }

  /** The emulator's process id while it runs (tests use it). */
  get pid(): number | undefined {
    return this.emulator?.pid;
  }

  /** The board's state (tests and logs). */
  get state(): BoardState {
    return this.machine.state;
  }

  private tempDir(): string {
    if (!this.dir) this.dir = mkdtempSync(join(tmpdir(), 'hil-corstone300-'));
    return this.dir;
  }

  async flash(blob: Uint8Array): Promise<'placed' | 'upload'> {
    const limit = this.launch.model_partition.bytes;
    if (blob.length > limit) {
      throw new HilError(`the model is ${blob.length} bytes, board ${this.name}'s partition holds ${limit}`, 'compress the model further');
    }
    // A running board has its partition in use; from now on the model travels over the link.
    if (this.machine.started) return 'upload';
    // Staged here; the backend's start places it (QEMU's loader, the FVP's --data, the MPS3's volume).
    this.modelPath = join(this.tempDir(), 'model.hilm');
    new FileFlasher(`board ${this.name}: flasher`, this.boardLog).flash(this.modelPath, blob);
    this.machine.flashed({ size: blob.length, crc32: crc32(blob) }, `model staged for the ${this.backend} backend`);
    return 'placed';
  }

  async preloadAudio(image: Uint8Array): Promise<void> {
    const part = this.launch.audio_partition;
    if (this.backend !== 'qemu' || !part) {
      throw new HilError(`board ${this.name}: clips can be preloaded only under QEMU with launch.audio_partition (backend ${this.backend})`, 'use --link crc (or stream)');
    }
    if (image.length > part.bytes) {
      throw new HilError(`board ${this.name}: the clips take ${image.length} bytes, the audio partition holds ${part.bytes}`, 'run fewer clips at once (--limit), or use --link crc');
    }
    if (this.machine.started) throw new HilError(`board ${this.name}: clips are preloaded before the board starts`, 'close the board and open it again');
    this.audioPath = join(this.tempDir(), 'audio.pcm');
    new FileFlasher(`board ${this.name}: audio loader`, this.boardLog).flash(this.audioPath, image);
  }

  async open(): Promise<Session> {
    if (this.session) throw new HilError(`board ${this.name} already has an open session`, 'close it first');
    const image = await makeFirmware(this.file);
    let transport: StreamTransport;
    try {
      transport = await this.connect(image);
    } catch (e) {
      await this.stop();
      throw e;
    }
    try {
      const banner = await transport.readBanner({ bannerMs: this.file.link.banner_ms, startMs: this.file.link.start_ms });
      const session = new CheckedSession(transport, banner, {
        link: this.file.link,
        placed: this.machine.takePlaced(),
        log: this.log,
        onClose: async () => {
          this.session = null;
          if (this.machine.state === 'session') this.machine.to('running', 'session closed');
        },
        explainLineClosed: async () => (await this.emulator?.exitReport(DEATH_REPORT_MS)) ?? null,
      }, this, image);
      this.session = session;
      this.machine.to('session', `session on ${transport.where}`);
      return session;
    } catch (e) {
      await transport.close();
      const died = await this.emulator?.exitReport(0);
      await this.stop();
      throw died ?? e;
    }
  }

  /** Starts the backend if it is not running and opens its UART. */
  private async connect(image: string): Promise<StreamTransport> {
    const placed = this.machine.state === 'flashed' && this.modelPath !== null;
    const model = placed ? { path: this.modelPath!, address: this.launch.model_partition.base } : null;
    const audio = this.audioPath && this.launch.audio_partition ? { path: this.audioPath, address: this.launch.audio_partition.base } : null;
    const b = this.backendConfig;
    const startMs = this.file.link.start_ms;
    switch (b.kind) {
      case 'qemu': {
        // A later session on the same QEMU reopens its pty; the device answers the wake line again.
        if (!this.machine.started) {
          this.ptyPath = (await this.emulator!.start(qemuCommand(b, { image, model, audio }), QEMU_PTY_LINE, startMs))[1]!;
          this.machine.to('running', `QEMU pid ${this.emulator!.pid} serves ${this.ptyPath}${model ? ', model loaded into the partition' : ''}${audio ? ', clips loaded into the audio partition' : ''}`);
        }
        return openSerialTransport(this.ptyPath!, this.log);
      }
      case 'fvp': {
        if (this.machine.started) throw new HilError(`board ${this.name}: the FVP takes one session per start`, 'close the board and open it again');
        const m = await this.emulator!.start(fvpCommand(b, { image, model }, this.file.accelerator.macs_per_cycle), FVP_PORT_LINE, startMs);
        this.machine.to('running', `FVP pid ${this.emulator!.pid} serves TCP port ${m[1]}`);
        return openTcpTransport('127.0.0.1', Number(m[1]), this.log, "FVP's UART");
      }
      case 'mps3': {
        const paths = requireMps3Paths(b);
        if (!this.machine.started) {
          await new Mps3Flasher(b, this.boardLog).flash(paths, image, model?.path ?? null);
          this.machine.to('running', 'MPS3 flashed and reset');
        }
        return openSerialTransport(paths.serial, this.log);
      }
    }
  }

  private async stop(): Promise<void> {
    await this.emulator?.stop();
    if (this.machine.state !== 'off') this.machine.to('off', this.emulator ? `${this.emulator.label} stopped` : 'released');
  }

  async close(): Promise<void> {
    if (this.session) await this.session.close();
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
    this.modelPath = null;
  }
}

/**
 * A session that holds the device to the board file and the ELF it runs: a firmware built with another
 * memory map, or a stale image, fails here with one line instead of producing wrong figures.
 */
export class CheckedSession extends Session {
  constructor(
    transport: StreamTransport,
    banner: Banner,
    opts: SessionOptions,
    private readonly board: Corstone300Board,
    private readonly image: string,
  ) {
    super(transport, banner, opts);
  }

  override async hello(): Promise<HelloReply> {
    const h = await super.hello();
    const l = this.board.launch;
    const where = `boards/${this.board.name}.json`;
    const expect = (what: string, device: number, file: number, field: string) => {
      if (device !== file) {
        throw new HilError(`board ${this.board.name}: the firmware reports ${what} ${device}, ${where} says ${file} (${field})`, 'make the board file and firmware/ports/corstone-300/corstone-300.ld agree');
      }
    };
    expect('a model partition of', h.modelPartitionBytes, l.model_partition.bytes, 'launch.model_partition.bytes');
    expect('an arena of', h.arenaCapacityBytes, l.arena_bytes, 'launch.arena_bytes');
    expect('a clock of', h.clockHz, l.cpu.clock_hz, 'launch.cpu.clock_hz');
    const want = BACKEND_LATENCY[this.board.backend].kind;
    if (this.board.backend === 'fvp' && h.latencyKind === KIND_CODE.measured) {
      // The FVP's DWT counts instructions of a functional model: not a silicon measurement.
      return Object.assign(h, { latencyKind: KIND_CODE.emulated });
    }
    if (h.latencyKind !== KIND_CODE[want]) {
      throw new HilError(`board ${this.board.name} on ${this.board.backend}: the firmware reports latency kind ${h.latencyKind}, expected ${KIND_CODE[want]} (${want})`, 'a DWT that counts under an emulator, or none on silicon: see docs/corstone-300.md');
    }
    return h;
  }

  override async stats(): Promise<GetStatsReply> {
    const s = await super.stats();
    const l = this.board.launch;
    const region = l.memories.find((m) => m.name === l.image_memory)!;
    const elf = imageMemory(this.image, region);
    const pairs: [string, number, number][] = [
      ['image_flash_bytes', s.imageFlashBytes, elf.imageFlashBytes],
      ['static_sram_bytes', s.staticSramBytes, elf.staticSramBytes],
      ['stack_size_bytes', s.stackSizeBytes, elf.stackSizeBytes],
    ];
    for (const [field, device, fromElf] of pairs) {
      if (device !== fromElf) {
        throw new HilError(`board ${this.board.name}: GET_STATS ${field} is ${device}, the ELF's sections say ${fromElf} (${this.image})`, 'the running image is not the one built: rebuild with `hil firmware build --board corstone-300`');
      }
    }
    return s;
  }
}
