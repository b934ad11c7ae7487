/**
 * Arm's Vela compiler, when it is installed: `hil compress` compiles the exported .tflite for an
 * Ethos-U55-128 and records Vela's own estimate (cycles, SRAM, flash), labelled `modelled (Vela <version>)`:
 * it is Vela's performance model, not a measurement. Its summary is plain text (Vela's PERFORMANCE.md
 * describes it), parsed here line by line; test/fixtures/vela/ holds real samples.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { HilError } from '../util/errors.js';

const Num = Type.Number();
const NumOrNull = Type.Union([Num, Type.Null()]);
const StrOrNull = Type.Union([Type.String(), Type.Null()]);

export const VelaEstimateSchema = Type.Object({
  label: Type.String(),
  version: Type.String(),
  accelerator: Type.String(),
  systemConfig: StrOrNull,
  memoryMode: StrOrNull,
  clockHz: NumOrNull,
  npuOperators: NumOrNull,
  cpuOperators: NumOrNull,
  npuCycles: Num,
  totalCycles: Num,
  sramBytes: Num,
  /** Off-chip plus on-chip flash, as Vela counts them (model weights, command stream, constants). */
  flashBytes: Num,
  macs: NumOrNull,
  /** Printed by Vela with --verbose-weights (newer versions always): the encoded weight streams. */
  encodedWeightBytes: NumOrNull,
  inferenceSeconds: NumOrNull,
});
export type VelaEstimate = Static<typeof VelaEstimateSchema>;

const UNIT: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 * 1024 };

function field(text: string, label: string): string | null {
  // Labels are followed by at least one space and the value; the label's inner spacing varies by version.
  const re = new RegExp(`^${label.replace(/ /g, '\\s+')}\\s+(.+?)\\s*$`, 'm');
  return re.exec(text)?.[1] ?? null;
}

function bytes(text: string, label: string): number | null {
  const v = field(text, label);
  if (v === null) return null;
  const m = /^([\d.]+)\s*(B|KiB|MiB)$/.exec(v);
  if (!m) throw new HilError(`Vela summary: "${label}" reads "${v}", not a size in B, KiB or MiB`, 'check the Vela version (docs/compression.md)');
  return Math.round(Number(m[1]) * UNIT[m[2]]);
}

function count(text: string, label: string, unit: string): number | null {
  const v = field(text, label);
  if (v === null) return null;
  const m = new RegExp(`^(\\d+)\\s+${unit}`).exec(v);
  if (!m) throw new HilError(`Vela summary: "${label}" reads "${v}", not a count of ${unit}`, 'check the Vela version (docs/compression.md)');
  return Number(m[1]);
}

function required<T>(v: T | null, label: string): T {
  if (v === null) throw new HilError(`Vela summary has no "${label}" line`, 'pass the text Vela prints after compiling (its "Network summary"), or check the Vela version');
  return v;
}

/** Parses the summary Vela prints after a compilation. */
export function parseVelaSummary(text: string, version: string): VelaEstimate {
  const ops = (kind: string) => {
    const m = new RegExp(`^${kind} operators = (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const clock = field(text, 'Accelerator clock');
  const mhz = clock ? /^([\d.]+) MHz$/.exec(clock) : null;
  const time = field(text, 'Batch Inference time');
  const ms = time ? /^([\d.]+) ms/.exec(time) : null;
  const offChip = bytes(text, 'Total Off-chip Flash used');
  const onChip = bytes(text, 'Total On-chip Flash used');
  if (offChip === null && onChip === null) required(null, 'Total Off-chip Flash used');
  const verbose = bytes(text, 'NPU Encoded Weights Size');
  return {
    label: `modelled (Vela ${version})`,
    version,
    accelerator: required(field(text, 'Accelerator configuration'), 'Accelerator configuration'),
    systemConfig: field(text, 'System configuration'),
    memoryMode: field(text, 'Memory mode'),
    clockHz: mhz ? Number(mhz[1]) * 1e6 : null,
    npuOperators: ops('NPU'),
    cpuOperators: ops('CPU'),
    npuCycles: required(count(text, 'NPU cycles', 'cycles'), 'NPU cycles'),
    totalCycles: required(count(text, 'Total cycles', 'cycles'), 'Total cycles'),
    sramBytes: required(bytes(text, 'Total SRAM used'), 'Total SRAM used'),
    flashBytes: (offChip ?? 0) + (onChip ?? 0),
    macs: count(text, 'Neural network macs', 'MACs'),
    encodedWeightBytes: verbose,
    inferenceSeconds: ms ? Number(ms[1]) / 1000 : null,
  };
}

/** Vela's version when `vela` is on PATH, else null. */
export function velaVersion(command = 'vela'): string | null {
  const r = spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) return null;
  const v = `${r.stdout}`.trim().split('\n').at(-1)?.trim();
  return v || null;
}

export const VELA_ACCELERATOR = 'ethos-u55-128';

/**
 * Compiles `tflite` with Vela into `outDir` and returns its estimate, or null when Vela is not installed.
 * A Vela that runs but fails, or prints no summary, is an error: the caller decides whether that stops it.
 */
export function runVela(tflite: string, outDir: string, command = 'vela'): VelaEstimate | null {
  const version = velaVersion(command);
  if (version === null) return null;
  mkdirSync(outDir, { recursive: true });
  const r = spawnSync(command, [tflite, '--accelerator-config', VELA_ACCELERATOR, '--output-dir', outDir], { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? `${r.stderr}`.trim().split('\n').at(-1) ?? `exit ${r.status}`;
    throw new HilError(`vela failed on ${tflite}: ${why}`, 'run the same vela command by hand to see why, or take vela off PATH to skip it');
  }
  return parseVelaSummary(`${r.stdout}`, version);
}
