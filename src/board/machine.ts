/**
 * A board's life as an explicit state machine, in the manner of labgrid's strategies:
 *
 *   off ──flash──▶ flashed ──start──▶ running ──open──▶ session
 *    ▲                │                 ▲  │               │
 *    └────────────────┴──── stop ───────┼──┘◀── close ─────┘ (back to running)
 *
 * - off: nothing started; a model given to flash() is only remembered.
 * - flashed: the board's flasher put the model where the firmware finds it at boot (a file the sim maps,
 *   a loader argument for QEMU/FVP, the MPS3 volume, a probe for real silicon). Only a start from here
 *   knows the partition holds that model, so only the first session after it may skip the upload.
 * - running: the firmware runs (a process hil supervises, or a board it reset); its line can be opened.
 * - session: a session is open on the line; closing it returns to running.
 *
 * Every transition is logged (the run's logs/board.log), and one that the machine does not allow is a
 * bug in the board, reported as such.
 */
import type { ModelRef } from '../link/messages.js';
import type { LinkLog } from '../link/transport.js';

export type BoardState = 'off' | 'flashed' | 'running' | 'session';

const ALLOWED: Record<BoardState, readonly BoardState[]> = {
  off: ['flashed', 'running', 'off'],
  flashed: ['flashed', 'running', 'off'],
  running: ['session', 'off'],
  session: ['running', 'off'],
};

export class BoardMachine {
  private current: BoardState = 'off';
  /** The model the flasher placed, while the partition is known to hold it (flashed, and the first session after). */
  private placedModel: ModelRef | null = null;

  constructor(
    private readonly board: string,
    private readonly log: LinkLog = () => {},
  ) {}

  get state(): BoardState {
    return this.current;
  }

  /** The firmware runs (with or without a session on its line). */
  get started(): boolean {
    return this.current === 'running' || this.current === 'session';
  }

  /** Moves to `next`, logging why; throws on a transition the machine does not have (a bug). */
  to(next: BoardState, why: string): void {
    if (!ALLOWED[this.current].includes(next)) throw new Error(`board ${this.board}: no transition ${this.current} → ${next} (${why})`);
    this.log('info', `board ${this.board}: ${this.current} → ${next}: ${why}`);
    if (next === 'off') this.placedModel = null;
    this.current = next;
  }

  flashed(model: ModelRef, how: string): void {
    this.to('flashed', how);
    this.placedModel = model;
  }

  /**
   * The model a new session may take as placed: what was flashed, for the first session after boot only
   * (that session may upload over it, and a later one cannot tell).
   */
  takePlaced(): ModelRef | null {
    const p = this.placedModel;
    this.placedModel = null;
    return p;
  }

  /** Logs a driver action that does not change the state (a flasher command, a port opened). */
  note(text: string): void {
    this.log('info', `board ${this.board}: ${text}`);
  }
}
