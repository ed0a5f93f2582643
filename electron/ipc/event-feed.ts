// The contract's events from the terminal services: card inserted and removed (with the slot's status),
// each journaled step of a flow (tagged with the operation that journaled it, so only the screen that
// started it shows its progress), operations that change the cards starting and ending (so every other
// screen can say it is busy), start-up or on-insert recoveries and every pass of the recovery surface,
// who is at the terminal (sign-in, sign-out, the lock), and owner logins the terminal ended. Both
// transports push what this feeds them: the browser host over its WebSocket, the Electron shell over
// webContents.send.
import type { CardOperations } from '../services/card-operations.js';
import type { WatchedDesk } from '../services/operators/desk-watch.js';
import type { RecoveryEvent } from '../services/recovery/terminal-recovery.js';
import type { OwnerLogins } from '../services/settlement/owner-logins.js';
import type { EngineEvent } from '../services/settlement/settlement-engine.js';
import type { ReaderSlots, SlotEvent } from '../services/slots/reader-slots.js';
import type { EventName, EventOf } from './contract.js';
import { deskWire } from './handlers-operators.js';

export interface EventSources {
  engine: { on(listener: (e: EngineEvent) => void): () => void };
  slots: Pick<ReaderSlots, 'on' | 'status'>;
  operations: Pick<CardOperations, 'on' | 'ambient'>;
  desk?: Pick<WatchedDesk, 'on'>;
  ownerLogins?: Pick<OwnerLogins, 'on'>;
  /** The recovery surface's passes (the terminal services' `recovery`; test doubles may have none). */
  recovery?: { on?(listener: (e: RecoveryEvent) => void): () => void };
}

export type EventPush = <E extends EventName>(event: E, payload: EventOf<E>) => void;

/** Subscribes to the services and pushes contract events; returns the unsubscribe. */
export function feedContractEvents(s: EventSources, push: EventPush): () => void {
  const slotEvent = (e: SlotEvent) => {
    if (e.type !== 'card-inserted' && e.type !== 'card-removed') return;
    const status = s.slots.status().find((x) => x.slot === e.slot);
    if (status) push(e.type, status);
  };
  const engineEvent = (e: EngineEvent) => {
    if (e.type === 'recovered') return push('recovered', e.report);
    // A flow the recovery before an operation could not settle: it stays in doubt (indoubt:list).
    if (e.type === 'recovery-failed') return;
    const { flowId, flowKind: kind, step, payload } = e.event;
    push('transfer-step', {
      flowId,
      kind,
      step,
      route: typeof payload.route === 'string' ? payload.route : undefined,
      operationId: s.operations.ambient()?.operationId,
    });
  };
  const recoveryEvent = (e: RecoveryEvent) => {
    if (e.type !== 'run') return;
    const { adopted, transfers, contents } = e.run;
    push('recovery-run', {
      trigger: e.trigger,
      adopted,
      transfers: transfers.length,
      contents: contents.length,
    });
  };
  const unsubscribe = [
    s.slots.on(slotEvent),
    s.engine.on(engineEvent),
    s.operations.on((e) => {
      if (e.changes)
        push('card-operation', { state: e.state, channel: e.channel, operationId: e.operationId });
    }),
    s.desk?.on((state) => push('operator', deskWire(state))) ?? (() => undefined),
    s.ownerLogins?.on((slot) => push('owner-logout', { slot })) ?? (() => undefined),
    s.recovery?.on?.(recoveryEvent) ?? (() => undefined),
  ];
  return () => {
    for (const u of unsubscribe) u();
  };
}
