/**
 * How a session times its requests: the board file's `link` section (src/board/schema.ts embeds this
 * schema), declared here because the link owns the timing and must not import the board layer.
 */
import { Type, type Static } from '@sinclair/typebox';

const positiveInt = Type.Integer({ minimum: 1 });
const count = Type.Integer({ minimum: 0 });

/** The link's timeouts and frame size, in milliseconds, counts and bytes. */
export const LinkTimingSchema = Type.Object(
  {
    banner_ms: positiveInt,
    start_ms: positiveInt,
    request_ms: positiveInt,
    activate_ms: positiveInt,
    retries: count,
    chunk_bytes: Type.Integer({ minimum: 1, maximum: 1020 }),
  },
  { additionalProperties: false },
);
export type LinkTiming = Static<typeof LinkTimingSchema>;
