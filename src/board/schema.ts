/**
 * The board file (boards/*.json): what a board is, how to start it, what its latency means and how the
 * link is timed. Declared once as a TypeBox schema, from which `BoardFile` is derived; every error is one
 * line naming the file and the field. The `launch` section belongs to the board's launcher: only its
 * `kind` is checked here, and the launcher validates the rest with its own schema (validateSection), so a
 * new backend adds fields without touching this file.
 */
import { LATENCY_KINDS } from '../spec/protocol.js';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { LinkTimingSchema } from '../link/timing.js';
import { StringEnum, validate } from '../util/schema.js';

export const LatencyKindSchema = StringEnum(LATENCY_KINDS);
export type LatencyKind = Static<typeof LatencyKindSchema>;
export const LatencyUnitSchema = StringEnum(['cycles', 'instructions']);

const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' });
export const u32 = (options: { minimum?: number } = {}) => Type.Integer({ minimum: 0, maximum: 0xffffffff, ...options });

/** docs/cost-model.md parameters, as the board file names them. */
export const AcceleratorSchema = Type.Object(
  {
    name: Type.String(),
    macs_per_cycle: u32({ minimum: 1 }),
    weight_bytes_per_cycle: u32({ minimum: 1 }),
    elements_per_cycle: u32({ minimum: 1 }),
    op_overhead_cycles: u32(),
    frontend_cycles: u32(),
    clock_hz: u32({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type AcceleratorParams = Static<typeof AcceleratorSchema>;


export const BOARD_SCHEMA = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Name,
    description: Type.String({ minLength: 1 }),
    /** How the board is started: `kind` picks the launcher (src/board/registry.ts); other fields are its own. */
    launch: Type.Object({ kind: Type.String({ minLength: 1 }) }),
    firmware: Type.Object(
      {
        /** firmware/ports/<port> */
        port: Name,
        /** `make -C firmware <make_target>`; defaults to the port's name. */
        make_target: Type.Optional(Name),
        /** The image that target produces, relative to the repository root. */
        image: Type.String({ pattern: '^firmware/build/' }),
      },
      { additionalProperties: false },
    ),
    latency: Type.Object({ kind: LatencyKindSchema, unit: LatencyUnitSchema }, { additionalProperties: false }),
    /** How reports label the GET_STATS memory figures ("sim-native" for the host port). */
    memory_label: Type.String({ minLength: 1 }),
    accelerator: AcceleratorSchema,
    link: LinkTimingSchema,
    notes: Type.Optional(Type.String()),
    /** Block shape [rows, cols] that suits this board's kernels; `hil compress` profiles with "block": "board" use it. */
    preferred_block: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 16 }), { minItems: 2, maxItems: 2 })),
    /** Where preferred_block comes from (a `bench:kernels` measurement, the accelerator's weight tile), so
     *  that a profile resolved from it can be traced to a figure. */
    preferred_block_source: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type BoardFile = Static<typeof BOARD_SCHEMA>;

const HINT = 'compare with boards/sim.json and src/board/schema.ts';

export function validateBoardFile(value: unknown, file: string): BoardFile {
  return validate(BOARD_SCHEMA, value, file, HINT);
}

/** Validates a launcher's own section (`launch`, or `launch.backends.<i>`) with its schema. */
export function validateSection<T extends TSchema>(schema: T, value: unknown, file: string, prefix: string): Static<T> {
  return validate(schema, value, file, HINT, prefix);
}
