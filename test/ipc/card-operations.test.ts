// One card operation at a time, and its events tagged with the operation that journaled them: steps
// emitted by an operation's work (however deep, however late in its promise chain) carry its ID;
// steps of work no caller started (recovery on card insert) carry none; only operations that change
// the cards are announced to every screen.
import { describe, expect, it } from 'vitest';
import type { EventName, EventOf } from '../../electron/ipc/contract.js';
import { feedContractEvents } from '../../electron/ipc/event-feed.js';
import { CardOperations } from '../../electron/services/card-operations.js';
import type { EngineEvent } from '../../electron/services/settlement/settlement-engine.js';
import { isTerminalError } from '../../protocol/errors.js';

function world() {
  const operations = new CardOperations();
  const engineListeners = new Set<(e: EngineEvent) => void>();
  const pushed: { event: EventName; payload: unknown }[] = [];
  feedContractEvents(
    {
      engine: {
        on: (l) => {
          engineListeners.add(l);
          return () => engineListeners.delete(l);
        },
      },
      slots: { on: () => () => undefined, status: () => [] },
      operations,
    },
    <E extends EventName>(event: E, payload: EventOf<E>) => pushed.push({ event, payload }),
  );
  const step = (flowId: string) => {
    for (const l of engineListeners)
      l({
        type: 'step',
        event: { flowId, flowKind: 'value-transfer', step: 'started', payload: {}, seq: 1 },
      });
  };
  return { operations, pushed, step };
}

describe('card operations', () => {
  it('tags the steps of an operation’s work with its ID, and only those', async () => {
    const { operations, pushed, step } = world();
    step('before');
    await operations.run({ channel: 'transfer:run', operationId: 'op-aaaaaaaa', changes: true }, async () => {
      step('first');
      await new Promise((r) => setTimeout(r, 5));
      await Promise.resolve().then(() => step('later'));
    });
    step('after');
    const steps = pushed.filter((p) => p.event === 'transfer-step').map((p) => p.payload);
    expect(steps).toEqual([
      expect.objectContaining({ flowId: 'before', operationId: undefined }),
      expect.objectContaining({ flowId: 'first', operationId: 'op-aaaaaaaa' }),
      expect.objectContaining({ flowId: 'later', operationId: 'op-aaaaaaaa' }),
      expect.objectContaining({ flowId: 'after', operationId: undefined }),
    ]);
    expect(pushed.filter((p) => p.event === 'card-operation').map((p) => p.payload)).toEqual([
      { state: 'started', channel: 'transfer:run', operationId: 'op-aaaaaaaa' },
      { state: 'ended', channel: 'transfer:run', operationId: 'op-aaaaaaaa' },
    ]);
  });

  it('refuses a second operation while one runs, announces no read, and is free again after a failure', async () => {
    const { operations, pushed } = world();
    let release: () => void = () => undefined;
    const first = operations.run(
      { channel: 'cards:read', changes: false },
      () => new Promise<void>((r) => (release = r)),
    );
    let refused: unknown;
    let ran = false;
    await operations
      .run({ channel: 'transfer:run', operationId: 'op-bbbbbbbb', changes: true }, async () => {
        ran = true;
      })
      .catch((e) => (refused = e));
    expect(isTerminalError(refused, 'E_BUSY')).toBe(true);
    expect((refused as { details: unknown }).details).toEqual({ channel: 'cards:read', changes: false });
    expect(ran).toBe(false);
    release();
    await first;
    // The refused ID was not used up: the same operation may be asked again.
    await operations
      .run({ channel: 'transfer:run', operationId: 'op-bbbbbbbb', changes: true }, async () => {
        throw new Error('card pulled');
      })
      .catch(() => undefined);
    expect(operations.running()).toBeUndefined();
    expect(pushed.filter((p) => p.event === 'card-operation')).toHaveLength(2);
  });
});
