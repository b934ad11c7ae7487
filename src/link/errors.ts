/**
 * How a request can fail on the link, one class per cause so the run layer and the CLI can tell them
 * apart (all are HilErrors: one line, exit code 2). docs/protocol.md §4 says when each is raised.
 */
import { HilError } from '../util/errors.js';
import { ERROR_CODES } from './messages.js';

/** A request that failed on the link (no reply, bad reply, line closed). */
export class LinkError extends HilError {
  constructor(
    message: string,
    readonly request: string,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'LinkError';
  }
}

/** The device answered a request with ERROR. */
export class DeviceError extends LinkError {
  constructor(
    request: string,
    readonly code: number,
    readonly deviceMessage: string,
  ) {
    super(`${request} refused by the device: error ${code} (${ERROR_CODES[code] ?? 'unknown code'}): ${deviceMessage}`, request);
    this.name = 'DeviceError';
  }
}

/** Not one byte came back during the whole give-up budget: the device is stuck or gone. */
export class DeviceHungError extends LinkError {
  constructor(request: string, seq: number, attempts: number, silentMs: number) {
    super(
      `${request} (seq ${seq}): the device sent no byte at all for ${seconds(silentMs)} s (${attempts} attempts): it looks hung`,
      request,
      "check the board's console output and power; raise link.give_up_ms in the board file for a device that is only slow",
    );
    this.name = 'DeviceHungError';
  }
}

/** The budget ran out while bytes kept arriving: corrupt frames, partial frames, other answers. */
export class LinkNoisyError extends LinkError {
  constructor(request: string, seq: number, attempts: number, budgetMs: number, readonly corruptFrames: number) {
    super(
      `${request} (seq ${seq}): no reply within ${seconds(budgetMs)} s over a noisy line (${attempts} attempts, ${corruptFrames} corrupt frames dropped meanwhile)`,
      request,
      'check the cable, baud rate and ground; raise link.give_up_ms in the board file to wait longer',
    );
    this.name = 'LinkNoisyError';
  }
}

/** The device printed its boot banner in binary mode: it restarted and lost its model and stream. */
export class DeviceResetError extends LinkError {
  constructor(
    request: string,
    readonly banner: string,
  ) {
    super(`${request}: the device reset mid-session (it printed "${banner}" again)`, request, 'check its power supply and watchdog; the model must be loaded again');
    this.name = 'DeviceResetError';
  }
}

/** A RUN_FRAME after one that failed: the device may or may not have run the failed one. */
export class StreamStateError extends LinkError {
  constructor(request: string, readonly reason: Error) {
    super(
      `${request}: not run, the model's stream state is unknown since ${reason.message}`,
      request,
      'reset the stream (STREAM_RESET) and run the clip again from its first frame',
    );
    this.name = 'StreamStateError';
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
}
