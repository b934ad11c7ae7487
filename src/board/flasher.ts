/**
 * Flashers: how each backend puts the firmware and the model where the board finds them at boot.
 *
 * - FileFlasher: the model as a file that the started process takes — the sim maps it as its partition,
 *   QEMU's loader device and the FVP's --data place it in memory before the core starts.
 * - Mps3Flasher: copies the firmware and model to the MPS3's configuration volume and resets the board.
 * - CommandFlasher: real silicon through the user's own tool (pyOCD, OpenOCD, probe-rs, J-Link, a copy
 *   to a mass-storage volume): a command template with placeholders, then an optional reset command.
 *
 * Every action is logged to the board log.
 */
import { closeSync, copyFileSync, fsyncSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { HilError } from '../util/errors.js';
import type { LinkLog } from '../link/transport.js';
import { mccResetBytes, mps3FlashPlan, type Mps3Backend } from './mps3.js';
import { runToExit } from './process.js';

/** Writes the model blob to a file a process will map or load at start. */
export class FileFlasher {
  constructor(
    readonly label: string,
    private readonly log: LinkLog = () => {},
  ) {}

  flash(path: string, blob: Uint8Array): void {
    writeFileSync(path, blob);
    this.log('info', `${this.label}: wrote the model (${blob.length} bytes) to ${path}`);
  }
}

/** Copies the firmware (and model) to the MPS3's volume, writes images.txt, and resets the board. */
export class Mps3Flasher {
  constructor(
    private readonly backend: Mps3Backend,
    private readonly log: LinkLog = () => {},
  ) {}

  async flash(paths: { volume: string; mcc?: string }, image: string, model: string | null): Promise<void> {
    const plan = mps3FlashPlan(this.backend, paths.volume, image, model);
    const durable = (path: string) => {
      const fd = openSync(path, 'r+');
      fsyncSync(fd);
      closeSync(fd);
    };
    try {
      for (const c of plan.copies) {
        copyFileSync(c.from, c.to);
        durable(c.to);
        this.log('info', `MPS3: copied ${c.from} to ${c.to}`);
      }
      writeFileSync(plan.imagesTxtPath, plan.imagesTxt, 'latin1');
      durable(plan.imagesTxtPath);
      this.log('info', `MPS3: wrote ${plan.imagesTxtPath}`);
    } catch (e) {
      throw new HilError(`cannot write the MPS3 volume ${paths.volume}: ${(e as Error).message}`, 'is it mounted read-write?');
    }
    if (!paths.mcc) {
      this.log('warn', "MPS3: files written; press the board's reset button now (or set HIL_MPS3_MCC to reset it through the MCC console)");
      return;
    }
    const port = new SerialPort({ path: paths.mcc, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(new HilError(`cannot open the MCC console ${paths.mcc}: ${e.message}`)) : resolve())));
    await new Promise<void>((resolve, reject) => port.write(mccResetBytes(this.backend), (e) => (e ? reject(e) : port.drain(() => resolve()))));
    await new Promise<void>((resolve) => port.close(() => resolve()));
    this.log('info', `MPS3: reset through ${paths.mcc}`);
  }
}

/** The placeholders a flash or reset command may use. */
export const FLASH_PLACEHOLDERS = ['elf', 'bin', 'hex', 'model', 'model_address', 'probe_serial', 'port'] as const;
export type FlashPlaceholder = (typeof FLASH_PLACEHOLDERS)[number];

/** The placeholders a template uses, in order of first use. */
export function placeholdersOf(template: readonly string[]): string[] {
  const seen: string[] = [];
  for (const arg of template) for (const m of arg.matchAll(/\{([a-z_]+)\}/g)) if (!seen.includes(m[1]!)) seen.push(m[1]!);
  return seen;
}

/**
 * Expands `{name}` in each argument (one argument stays one argument: no shell, no word splitting). An
 * unknown placeholder, or one with no value here, is a one-line error naming the board file's field.
 */
export function expandTemplate(template: readonly string[], values: Partial<Record<FlashPlaceholder, string>>, where: string): string[] {
  return template.map((arg) =>
    arg.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
      if (!(FLASH_PLACEHOLDERS as readonly string[]).includes(name)) {
        throw new HilError(`${where}: unknown placeholder {${name}}`, `use ${FLASH_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
      }
      const v = values[name as FlashPlaceholder];
      if (v === undefined) throw new HilError(`${where}: {${name}} has no value for this board`, name === 'probe_serial' ? 'set launch.flash.probe_serial in the board file' : 'see docs/boards.md');
      return v;
    }),
  );
}

export interface CommandFlasherConfig {
  /** argv, with placeholders. */
  command: string[];
  /** argv of a reset command, run after flashing and before each first session. */
  reset?: string[];
  probe_serial?: string;
  /** The objcopy that makes {bin} and {hex} from the ELF (default arm-none-eabi-objcopy). */
  objcopy?: string;
  /** The partition's address, for {model_address}. */
  model_address?: number;
  timeout_ms?: number;
}

const FLASH_TIMEOUT_MS = 120_000;

/** Runs the board file's flash command (then its reset command) through the template. */
export class CommandFlasher {
  constructor(
    private readonly board: string,
    private readonly config: CommandFlasherConfig,
    private readonly log: LinkLog = () => {},
  ) {}

  /** The template takes the model: the board boots with it in its partition. */
  get placesModel(): boolean {
    return placeholdersOf(this.config.command).includes('model');
  }

  /** Values for every placeholder the templates use; {bin} and {hex} are made with objcopy only when used. */
  private async values(image: string, model: string | null, dir: string, port: string | undefined): Promise<Partial<Record<FlashPlaceholder, string>>> {
    const used = new Set([...placeholdersOf(this.config.command), ...placeholdersOf(this.config.reset ?? [])]);
    const v: Partial<Record<FlashPlaceholder, string>> = { elf: image, probe_serial: this.config.probe_serial, port };
    if (model) v.model = model;
    if (this.config.model_address !== undefined) v.model_address = `0x${this.config.model_address.toString(16)}`;
    for (const [format, target] of [['bin', 'binary'], ['hex', 'ihex']] as const) {
      if (!used.has(format)) continue;
      const out = join(dir, `firmware.${format}`);
      const objcopy = this.config.objcopy ?? 'arm-none-eabi-objcopy';
      const r = await runToExit({ command: objcopy, args: ['-O', target, image, out] }, FLASH_TIMEOUT_MS);
      if (r.code !== 0) throw new HilError(`board ${this.board}: ${objcopy} -O ${target} failed: ${r.output.trim().split('\n').at(-1) ?? `exit ${r.code}`}`, 'set launch.flash.objcopy in the board file');
      this.log('info', `board ${this.board}: ${objcopy} -O ${target} ${image} ${out}`);
      v[format] = out;
    }
    return v;
  }

  private async run(argv: string[], what: string): Promise<void> {
    this.log('info', `board ${this.board}: ${what}: ${argv.join(' ')}`);
    const r = await runToExit({ command: argv[0]!, args: argv.slice(1) }, this.config.timeout_ms ?? FLASH_TIMEOUT_MS);
    for (const line of r.output.trim().split('\n').filter(Boolean)) this.log('debug', `board ${this.board}: ${what}: ${line}`);
    if (r.code !== 0) {
      const last = r.output.trim().split('\n').at(-1);
      throw new HilError(`board ${this.board}: the ${what} command exited with code ${r.code}${last ? ` (${last})` : ''}`, `run it by hand: ${argv.join(' ')}`);
    }
  }

  /** Flashes the image (and model, when the template takes it), then resets. */
  async flash(image: string, model: string | null, dir: string, port?: string): Promise<void> {
    const v = await this.values(image, model, dir, port);
    await this.run(expandTemplate(this.config.command, v, 'launch.flash.command'), 'flash');
    if (this.config.reset) await this.run(expandTemplate(this.config.reset, v, 'launch.flash.reset'), 'reset');
  }
}
