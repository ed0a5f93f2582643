// One operation on the cards at a time, for the whole main process: whichever window, tab or
// connection asks, a second request while one runs is refused at once with E_BUSY (naming what
// runs), never queued, so a payment pressed in two tabs charges once. Each operation may carry the
// caller's operation ID (made by the screen that asks): the events its work emits are tagged with it
// (through AsyncLocalStorage, so even steps emitted deep in the engine know their operation), and only
// the screen that started it shows its progress. An operation ID is used once: a request that repeats
// one (a replayed frame, a retry after a lost answer) is refused and runs nothing.
//
// The settlement engine keeps its own lock (exclusive()) under this one: work that starts without a
// caller (recovery when a card is inserted) is serialized there and carries no operation ID.
import { AsyncLocalStorage } from 'node:async_hooks';
import { TerminalError } from '../../protocol/errors.js';

export interface RunningOperation {
  /** The contract channel that started it ("transfer:run"). */
  readonly channel: string;
  /** The caller's ID for it, if it gave one. */
  readonly operationId?: string;
  /** Whether it changes the cards (a payment) or only reads them. */
  readonly changes: boolean;
}

export type CardOperationEvent = RunningOperation & { readonly state: 'started' | 'ended' };

/** An operation ID: what the screen makes (a UUID), or any short token of the same characters. */
export const OPERATION_ID = /^[A-Za-z0-9-]{8,64}$/;
const REMEMBERED_IDS = 4096;

export class CardOperations {
  private current: RunningOperation | undefined;
  private readonly context = new AsyncLocalStorage<RunningOperation>();
  private readonly listeners = new Set<(e: CardOperationEvent) => void>();
  /** Operation IDs already used, oldest first (a Set keeps insertion order). */
  private readonly used = new Set<string>();

  /**
   * Runs `work` as the one card operation, or refuses: E_BUSY while another runs, E_INPUT_INVALID for
   * a malformed or already used operation ID. Nothing of `work` runs when it is refused.
   */
  async run<T>(
    op: { channel: string; operationId?: string; changes: boolean },
    work: () => Promise<T>,
  ): Promise<T> {
    const { operationId } = op;
    if (operationId !== undefined) {
      if (!OPERATION_ID.test(operationId))
        throw new TerminalError('E_INPUT_INVALID', 'an operation ID is 8 to 64 letters, digits or dashes');
      if (this.used.has(operationId))
        throw new TerminalError(
          'E_INPUT_INVALID',
          `operation ${operationId} was already run: nothing was done`,
          {
            operationId,
          },
        );
    }
    const running = this.current;
    if (running) {
      throw new TerminalError(
        'E_BUSY',
        `another operation is running on the cards (${running.channel}); wait for it to finish`,
        { channel: running.channel, changes: running.changes },
      );
    }
    const current: RunningOperation = { channel: op.channel, operationId, changes: op.changes };
    if (operationId !== undefined) this.remember(operationId);
    this.current = current;
    this.emit({ ...current, state: 'started' });
    try {
      return await this.context.run(current, work);
    } finally {
      this.current = undefined;
      this.emit({ ...current, state: 'ended' });
    }
  }

  /** The operation running now, if any. */
  running(): RunningOperation | undefined {
    return this.current;
  }

  /** The operation whose work is executing in this asynchronous context (undefined outside one). */
  ambient(): RunningOperation | undefined {
    return this.context.getStore();
  }

  on(listener: (e: CardOperationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: CardOperationEvent): void {
    for (const l of this.listeners) l(e);
  }

  private remember(operationId: string): void {
    this.used.add(operationId);
    if (this.used.size > REMEMBERED_IDS) {
      const oldest = this.used.values().next().value;
      if (oldest !== undefined) this.used.delete(oldest);
    }
  }
}
