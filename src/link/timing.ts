/**
 * How a session times its requests: the board file's `link` section (src/board/schema.ts embeds this
 * schema), declared here because the link owns the timing and must not import the board layer.
 */
import { Type, type Static } from '@sinclair/typebox';

const positiveInt = Type.Integer({ minimum: 1 });

/** The link's timeouts and frame size, in milliseconds and bytes (docs/protocol.md §4). */
export const LinkTimingSchema = Type.Object(
  {
    banner_ms: positiveInt,
    start_ms: positiveInt,
    /** The retransmission timeout before a round trip was measured; then it follows the measurements. */
    rto_initial_ms: positiveInt,
    /** Bounds of the adaptive timeout, the upper one also of its exponential backoff. */
    rto_min_ms: positiveInt,
    rto_max_ms: positiveInt,
    /** A request fails after this long without any reply from the device. */
    give_up_ms: positiveInt,
    /** The first timeout of MODEL_ACTIVATE, which validates the whole blob before it answers. */
    activate_ms: positiveInt,
    chunk_bytes: Type.Integer({ minimum: 1, maximum: 1020 }),
  },
  { additionalProperties: false },
);
export type LinkTiming = Static<typeof LinkTimingSchema>;

/** The client's view of the board file's timing. */
export function clientTiming(link: LinkTiming): { rtoInitialMs: number; rtoMinMs: number; rtoMaxMs: number; giveUpMs: number } {
  return { rtoInitialMs: link.rto_initial_ms, rtoMinMs: link.rto_min_ms, rtoMaxMs: link.rto_max_ms, giveUpMs: link.give_up_ms };
}
