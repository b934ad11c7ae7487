/**
 * The board file (boards/*.json): what a board is, how to start it, what its latency means and how the
 * link is timed. Validated with ajv; every error is one line naming the file and the field. The `launch`
 * section belongs to the board's launcher: only its `kind` is checked here, and the launcher validates
 * the rest with its own schema (validateSection), so a new backend adds fields without touching this file.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { LinkTiming } from '../link/session.js';
import { HilError } from '../util/errors.js';

import { LATENCY_KINDS, type LatencyKind } from '../spec/protocol.js';

export type { LatencyKind };

/** docs/cost-model.md parameters, as the board file names them. */
export interface AcceleratorParams {
  name: string;
  macs_per_cycle: number;
  weight_bytes_per_cycle: number;
  elements_per_cycle: number;
  op_overhead_cycles: number;
  frontend_cycles: number;
  clock_hz: number;
}

export interface BoardFile {
  $schema?: string;
  name: string;
  description: string;
  /** How the board is started: `kind` picks the launcher (src/board/registry.ts); other fields are its own. */
  launch: { kind: string; [field: string]: unknown };
  firmware: {
    /** firmware/ports/<port> */
    port: string;
    /** `make -C firmware <make_target>`; defaults to the port's name. */
    make_target?: string;
    /** The image that target produces, relative to the repository root. */
    image: string;
  };
  latency: { kind: LatencyKind; unit: 'cycles' | 'instructions' };
  /** How reports label the GET_STATS memory figures ("sim-native" for the host port). */
  memory_label: string;
  accelerator: AcceleratorParams;
  link: LinkTiming;
  notes?: string;
  /** Block shape [rows, cols] that suits this board's kernels; `hil compress` profiles with "block": "board" use it. */
  preferred_block?: [number, number];
}

const positiveInt = { type: 'integer', minimum: 1 } as const;
const count = { type: 'integer', minimum: 0 } as const;
const u32 = { type: 'integer', minimum: 0, maximum: 0xffffffff } as const;

export const BOARD_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'launch', 'firmware', 'latency', 'memory_label', 'accelerator', 'link'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    description: { type: 'string', minLength: 1 },
    launch: {
      type: 'object',
      required: ['kind'],
      properties: { kind: { type: 'string', minLength: 1 } },
    },
    firmware: {
      type: 'object',
      additionalProperties: false,
      required: ['port', 'image'],
      properties: {
        port: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
        make_target: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
        image: { type: 'string', pattern: '^firmware/build/' },
      },
    },
    latency: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'unit'],
      properties: {
        kind: { enum: [...LATENCY_KINDS] },
        unit: { enum: ['cycles', 'instructions'] },
      },
    },
    memory_label: { type: 'string', minLength: 1 },
    accelerator: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'macs_per_cycle', 'weight_bytes_per_cycle', 'elements_per_cycle', 'op_overhead_cycles', 'frontend_cycles', 'clock_hz'],
      properties: {
        name: { type: 'string' },
        macs_per_cycle: { ...u32, minimum: 1 },
        weight_bytes_per_cycle: { ...u32, minimum: 1 },
        elements_per_cycle: { ...u32, minimum: 1 },
        op_overhead_cycles: u32,
        frontend_cycles: u32,
        clock_hz: { ...u32, minimum: 1 },
      },
    },
    link: {
      type: 'object',
      additionalProperties: false,
      required: ['banner_ms', 'start_ms', 'request_ms', 'activate_ms', 'retries', 'chunk_bytes'],
      properties: {
        banner_ms: positiveInt,
        start_ms: positiveInt,
        request_ms: positiveInt,
        activate_ms: positiveInt,
        retries: count,
        chunk_bytes: { type: 'integer', minimum: 1, maximum: 1020 },
      },
    },
    notes: { type: 'string' },
    preferred_block: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 16 }, minItems: 2, maxItems: 2 },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
const validateBoard = ajv.compile(BOARD_SCHEMA);

/** `link.request_ms`, or "(top level)". */
function fieldPath(instancePath: string, prefix: string): string {
  const p = [prefix, ...instancePath.split('/').slice(1)].filter(Boolean).join('.');
  return p || '(top level)';
}

/** One ajv error as one line. */
export function describeSchemaError(e: ErrorObject, prefix = ''): string {
  const at = fieldPath(e.instancePath, prefix);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${at}: unknown field "${String(p.additionalProperty)}"`;
    case 'required':
      return `${at}: missing field "${String(p.missingProperty)}"`;
    case 'enum':
      return `${at} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${at} ${e.message ?? 'is invalid'}`;
  }
}

function check<T>(validate: ValidateFunction, value: unknown, file: string, prefix = ''): T {
  if (!validate(value)) {
    const e = validate.errors![0]!;
    throw new HilError(`${file}: ${describeSchemaError(e, prefix)}`, 'compare with boards/sim.json and src/board/schema.ts');
  }
  return value as T;
}

export function validateBoardFile(value: unknown, file: string): BoardFile {
  return check<BoardFile>(validateBoard, value, file);
}

/** Validates a launcher's own section (`launch`) with its schema. */
export function validateSection<T>(schema: object, value: unknown, file: string, prefix: string): T {
  return check<T>(ajv.compile(schema), value, file, prefix);
}
